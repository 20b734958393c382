// The process-start side of the guest agent swiftlet-init (PID 1 in a microVM), in C for
// the same reason as nsexec: the agent is a multi-threaded Swift process, so between
// fork and execve only this code runs (no malloc, no locks, no Swift). The agent fills
// an `sa_spec` in advance; `sa_spawn` forks, and the child enters the container's
// namespaces and root, sets up its terminal or pipes, working directory and credentials,
// and execs. As with runc, the container's main process is PID 1 of its own pid namespace
// (so signals it has no handler for do not reach it, and it reaps the container's orphans)
// in its own mount namespace with a /proc of that pid namespace; `exec` joins both.
#ifndef SWIFTLET_AGENTEXEC_H
#define SWIFTLET_AGENTEXEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "confine.h"

/// Everything the child needs, prepared by the agent.
struct sa_spec {
    const char *root;          // the container root (an overlay mount point) to chroot into
    // Main process (new_namespaces != 0): clone into a new pid and mount namespace, make
    // every mount private, mount a fresh /proc on root/proc (replacing the agent's),
    // chroot. A kernel without pid namespaces (CONFIG_PID_NS) refuses the clone (EINVAL):
    // then the process is started as an exec without namespaces is.
    // Exec (join_pid_ns >= 0): the calling thread enters that pid namespace for the fork
    // (setns affects only its children) and returns to home_pid_ns; the child enters
    // join_mnt_ns, then chroots. Without namespaces to join: fork and chroot.
    int new_namespaces;
    int join_pid_ns;           // /proc/<main>/ns/pid, or -1
    int join_mnt_ns;           // /proc/<main>/ns/mnt
    int home_pid_ns;           // the agent's own /proc/self/ns/pid
    const char *const *argv;   // NULL-terminated
    const char *const *envp;   // NULL-terminated
    const char *cwd;           // absolute, inside root; created when missing (as runc)
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t ngroups;
    uint64_t capabilities;     // bounding set; also effective/permitted/inheritable when uid == 0
    int last_cap;              // /proc/sys/kernel/cap_last_cap
    struct sl_process_confinement confinement;  // seccomp filter and no_new_privs
    // The main process only, in its new mount namespace after the fresh /proc: masked and
    // read-only paths (NULL-terminated lists, may be NULL) and a read-only root.
    const char *const *masked_paths;
    const char *const *readonly_paths;
    int readonly_rootfs;
    int stdio[3];              // fds that become the process's 0, 1, 2
    int tty;                   // nonzero: stdio[0] is a pty slave, made the controlling terminal
    int error_fd;              // close-on-exec pipe: a failure is reported here, then _exit
};

/// The message a failed child writes to `error_fd` before exiting: Docker's exit status
/// (125 setup, 126 not executable, 127 not found) and runc's line, NUL-terminated.
struct sa_failure {
    int32_t status;
    char message[4096 + 256];
};

/// Forks the process; returns its pid (in the agent's pid namespace) in the parent, or -1
/// with errno set. A new session leader (setsid) with default signal dispositions and an
/// empty signal mask.
pid_t sa_spawn(const struct sa_spec *spec);

/// Opens a pseudo-terminal pair from the devpts instance whose ptmx is `ptmx` (the
/// container's own /dev/pts): the master and the slave (both close-on-exec, the slave
/// with O_NOCTTY), with the window size set when rows and columns are nonzero.
int sa_open_pty(const char *ptmx, int *master, int *slave, unsigned short rows, unsigned short columns);

/// TIOCSWINSZ on a terminal fd.
int sa_set_window_size(int fd, unsigned short rows, unsigned short columns);

/// finit_module(2), which glibc does not wrap.
int sa_finit_module(int fd, const char *params, int flags);

/// A close-on-exec AF_VSOCK stream socket listening on `port` for any CID (virtio 1.2
/// §5.10), or -1 with errno set.
int sa_vsock_listen(unsigned int port, int backlog);

/// A close-on-exec AF_VSOCK stream socket connected to `cid`:`port` (a host talking to a
/// guest through the kernel's vhost-vsock), or -1 with errno set.
int sa_vsock_connect(unsigned int cid, unsigned int port);

/// accept4(2) with SOCK_CLOEXEC (hidden from Swift behind _GNU_SOURCE).
int sa_accept(int listener);

/// mknod(2) of a character device with mode 0666.
int sa_mknod_char(const char *path, unsigned int major, unsigned int minor);

/// reboot(RB_POWER_OFF): returns only on failure (-1, errno set).
int sa_power_off(void);

#endif
