// The child side of a namespace container, in C like runc's nsexec: between clone and
// execve a multi-threaded Swift process must run no Swift code, so the parent fills a
// `sl_spec` (every string and array prepared in advance: the child allocates nothing)
// and `sl_spawn` (nsexec.c) does clone, namespace and rootfs setup, credentials and
// execve. nsutil.c has the small syscall wrappers at the end of this header.
#ifndef SWIFTLET_NSEXEC_H
#define SWIFTLET_NSEXEC_H

#include <stddef.h>
#include <stdint.h>
#include <spawn.h>
#include <sys/types.h>

#include "confine.h"

/// A bind mount of a host directory into the container (a volume).
struct sl_bind {
    const char *source;   // host path
    const char *target;   // absolute path inside the container
    int readonly;
};

/// A tmpfs mounted in the container (`--tmpfs PATH[:OPTIONS]`), flags and data parsed by the parent.
struct sl_tmpfs {
    const char *target;   // absolute path inside the container
    unsigned long flags;  // MS_* flags
    const char *data;     // the options the kernel's tmpfs takes (size=, mode=, …)
};

/// A sysctl set in the container's own namespaces before its process starts (`--sysctl`).
struct sl_sysctl {
    const char *path;     // /proc/sys/… as the container sees it
    const char *value;
};

/// A device node made in the container's /dev (`--privileged`: the host's devices).
struct sl_device {
    const char *path;     // absolute, under /dev
    mode_t mode;          // type and permission bits
    dev_t rdev;
};

enum { SL_NET_OWN = 0, SL_NET_HOST = 1, SL_NET_JOIN = 2 };

/// Everything the child needs, prepared by the parent.
struct sl_spec {
    // Create mode (join_pid == 0): new pid/mount/uts/ipc/net namespaces, rootfs below.
    const char *rootfs;        // empty host directory the overlay is mounted on
    const char *overlay_data;  // "lowerdir=…,upperdir=…,workdir=…"
    const char *hostname;
    const struct sl_bind *binds;
    size_t nbinds;
    // The container's network interface, moved into its namespace by the parent before
    // it releases the child (NULL or empty: loopback only): address, prefix length and
    // default gateway, IPv4 in network byte order (sl_configure_interface).
    const char *net_interface;
    uint32_t net_address;
    unsigned net_prefix;
    uint32_t net_gateway;
    // Whose network namespace: a new one (SL_NET_OWN), the host's, kept (SL_NET_HOST:
    // `--network host`), or another container's, joined through `net_join_fd`, an open
    // /proc/<pid>/ns/net (SL_NET_JOIN: `--network container:ID`).
    int net_mode;
    int net_join_fd;
    // Confinement of the root (create mode): tmpfs mounts, sysctls, device nodes beyond
    // the standard ones, masked and read-only paths (NULL-terminated lists), a read-only
    // root (`--read-only`), sysfs writable (`--privileged`), a private cgroup namespace
    // entered once the parent has put the child in its cgroup, and the root overlay
    // mounted nodev (device nodes shipped in an image are inert).
    const struct sl_tmpfs *tmpfs;
    size_t ntmpfs;
    const struct sl_sysctl *sysctls;
    size_t nsysctls;
    const struct sl_device *devices;
    size_t ndevices;
    const char *const *masked_paths;
    const char *const *readonly_paths;
    int readonly_rootfs;
    int writable_sysfs;
    int new_cgroup_namespace;
    int nodev_rootfs;
    // A user namespace (`--userns=auto`, create mode): the child is cloned into it, waits
    // while the parent writes its id maps, then becomes the namespace's root; device nodes
    // are bind mounts of the host's (mknod is refused there). With `lower_mountpoint` set,
    // `lower_tree_fd` is a detached idmapped tree (sl_idmapped_tree, userns.h) moved onto
    // it before the overlay, whose data then names it as lowerdir.
    int user_namespace;
    int lower_tree_fd;
    const char *lower_mountpoint;
    // Join mode (join_pid > 0): setns into the namespaces of that process (exec).
    pid_t join_pid;
    const int *ns_fds;         // open /proc/<pid>/ns/{[user,]ipc,uts,net,pid,mnt}
    size_t n_ns_fds;
    // The process.
    const char *const *argv;   // NULL-terminated
    const char *const *envp;   // NULL-terminated
    const char *cwd;
    uid_t uid;
    gid_t gid;
    const gid_t *groups;
    size_t ngroups;
    uint64_t capabilities;     // effective/permitted/bounding set when uid == 0
    int last_cap;              // /proc/sys/kernel/cap_last_cap
    struct sl_process_confinement confinement;  // seccomp filter and no_new_privs (both modes)
    int stdio[3];              // fds for the container's 0, 1, 2
    int sync_fd;               // read end: the child waits for one byte before setup
    int sync_close_fd;         // write end, closed in the child (so a dead parent means EOF)
    // TTY (tty != 0): the child opens a pseudo-terminal in the container's devpts, makes it
    // its controlling terminal and stdio, and sends the master over console_socket
    // (SCM_RIGHTS), like runc's --console-socket.
    int tty;
    int console_socket;
    unsigned short rows, columns;  // initial terminal size (0: leave unset)
};

/// Clones the container child (or, in join mode, an intermediate that joins the namespaces
/// and forks the process) and returns its pid, or -1 with errno set. The child blocks
/// until `sl_release(sync write end)`; on a setup failure it writes a message to its
/// stderr and exits 125 (runtime error), 126 (not executable) or 127 (not found).
pid_t sl_spawn(const struct sl_spec *spec);

/// Exit statuses the child uses, as Docker's.
enum { SL_EXIT_RUNTIME = 125, SL_EXIT_NOT_EXECUTABLE = 126, SL_EXIT_NOT_FOUND = 127 };

/// pidfd_open(2) and pidfd_send_signal(2), which glibc 2.36 wraps but Swift imports poorly.
int sl_pidfd_open(pid_t pid);
int sl_pidfd_send_signal(int pidfd, int sig);

/// Credentials of a container process (async-signal-safe, for a forked child): the
/// capability bounding set cut to `capabilities`, supplementary groups, gid, uid, and
/// for uid 0 exactly `capabilities` as effective/permitted/inheritable (another uid keeps
/// none). On failure returns -1 with errno set and `*step` naming the call.
int sl_apply_credentials(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, uint64_t capabilities,
                         int last_cap, const char **step);

/// mkdir -p of an absolute path, components made with mode 0755 (existing ones are
/// fine). Returns 0, or -1 with errno set (ENAMETOOLONG past PATH_MAX). Async-signal-safe.
int sl_make_directories(const char *path);

/// Appends `src` to the NUL-terminated `dst` of `size` bytes, truncating
/// (async-signal-safe: for messages built in a forked child).
void sl_append(char *dst, const char *src, size_t size);

/// How a container child reports a failure before execve: Docker's exit status (125
/// setup, 126 not executable, 127 not found), what failed and errno (0: none). Does not
/// return (the child exits with `status`).
typedef void (*sl_fail_fn)(const void *context, int status, const char *what, int err);

/// execve of argv[0] with a PATH search from envp's PATH (Go's exec.LookPath rules, as
/// runc: a regular file with an x bit), for the children of nsexec.c and agentexec.c.
/// Returns only through `fail`, with runc's message ("unable to start container process:
/// exec: …") and 127 when nothing was found, else 126.
void sl_exec_command(const char *const *argv, const char *const *envp, sl_fail_fn fail, const void *context);

/// Receives one fd sent with SCM_RIGHTS; -1 with errno set (0 when the peer closed).
int sl_recv_fd(int socket);

/// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC).
int sl_socketpair_cloexec(int fds[2]);

/// pipe2(fds, O_CLOEXEC), POSIX_SPAWN_SETSID, posix_spawn_file_actions_addclosefrom_np and
/// posix_spawn_file_actions_addchdir_np, hidden from Swift behind _GNU_SOURCE.
int sl_pipe_cloexec(int fds[2]);
int sl_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);
int sl_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);
extern const short SL_POSIX_SPAWN_SETSID;

#endif
