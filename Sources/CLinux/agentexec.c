// The guest agent's process start (see agentexec.h). Only async-signal-safe calls and
// raw syscalls run in the child.
#define _GNU_SOURCE
#include "agentexec.h"
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <linux/vm_sockets.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/sysmacros.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Reports "<what>[: strerror(err)]" with `status` on the error pipe and exits with it.
static void sa_fail(const struct sa_spec *spec, int status, const char *what, int err) {
    struct sa_failure failure;
    failure.status = status;
    failure.message[0] = 0;
    sl_append(failure.message, what, sizeof failure.message);
    if (err != 0) {
        sl_append(failure.message, ": ", sizeof failure.message);
        sl_append(failure.message, strerror(err), sizeof failure.message);
    }
    size_t length = offsetof(struct sa_failure, message) + strlen(failure.message) + 1;
    const char *bytes = (const char *)&failure;
    while (length > 0) {
        ssize_t n = write(spec->error_fd, bytes, length);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        bytes += n;
        length -= (size_t)n;
    }
    _exit(status);
}

static void sa_check(const struct sa_spec *spec, int result, const char *what) {
    if (result < 0) sa_fail(spec, 125, what, errno);
}

static void sa_fail_exec(const void *context, int status, const char *what, int err) {
    sa_fail(context, status, what, err);
}

/// The main process: a /proc of its new pid namespace (in its new mount namespace, so the
/// agent's view is untouched), then chroot into the container root.
static void sa_enter_new_root(const struct sa_spec *spec) {
    sa_check(spec, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "making the mounts private");
    char proc[4096] = "";
    sl_append(proc, spec->root, sizeof proc);
    sl_append(proc, "/proc", sizeof proc);
    if (umount2(proc, MNT_DETACH) < 0 && errno != EINVAL) sa_fail(spec, 125, "unmounting the agent's /proc", errno);
    sa_check(spec, mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mounting /proc");
    sa_check(spec, chroot(spec->root), "entering the container root");
    sa_check(spec, chdir("/"), "chdir /");
    const char *failed = "";
    if (sl_mask_paths(spec->masked_paths, &failed) < 0) sa_fail(spec, 125, failed, errno);
    if (sl_readonly_paths(spec->readonly_paths, &failed) < 0) sa_fail(spec, 125, failed, errno);
    if (spec->readonly_rootfs) {
        sa_check(spec, mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), "making the root read-only");
    }
}

static void sa_child(const struct sa_spec *spec, int isolated) {
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // Move the stdio fds above 2 first so dup2 cannot overwrite one still needed.
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = fcntl(spec->stdio[i], F_DUPFD_CLOEXEC, 3);
        sa_check(spec, fds[i], "duplicating stdio");
    }
    for (int i = 0; i < 3; i++) sa_check(spec, dup2(fds[i], i), "dup2 stdio");
    // Nothing the agent holds open (vsock sessions, other processes' pipes) leaks in.
    sa_check(spec, (int)syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range");
    sa_check(spec, setsid(), "setsid");
    if (spec->tty) sa_check(spec, ioctl(0, TIOCSCTTY, 0), "setting the controlling terminal");
    if (isolated) {
        sa_enter_new_root(spec);
    } else {
        if (spec->join_pid_ns >= 0) {
            sa_check(spec, setns(spec->join_mnt_ns, CLONE_NEWNS), "entering the container's mount namespace");
        }
        sa_check(spec, chroot(spec->root), "entering the container root");
        sa_check(spec, chdir("/"), "chdir /");
    }
    // Errors surface at the chdir that follows.
    if (spec->cwd[0] == '/') (void)sl_make_directories(spec->cwd);
    if (chdir(spec->cwd) < 0) {
        char what[4096] = "chdir to cwd (\"";
        sl_append(what, spec->cwd, sizeof what);
        sl_append(what, "\") set in config failed", sizeof what);
        sa_fail(spec, 126, what, errno);
    }
    const char *step = "";
    if (sl_confine_before_credentials(&spec->confinement, &step) < 0) sa_fail(spec, 125, step, errno);
    if (sl_apply_credentials(spec->uid, spec->gid, spec->groups, spec->ngroups, spec->capabilities,
                             spec->last_cap, &step) < 0) {
        sa_fail(spec, 125, step, errno);
    }
    if (sl_confine_before_exec(&spec->confinement, &step) < 0) sa_fail(spec, 125, step, errno);
    sl_exec_command(spec->argv, spec->envp, sa_fail_exec, spec);
}

/// A raw clone (fork semantics) skips glibc's atfork handlers, which may take locks.
static pid_t sa_clone(const struct sa_spec *spec, unsigned long flags) {
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        sa_child(spec, (flags & CLONE_NEWPID) != 0);
        _exit(125);
    }
    return pid;
}

pid_t sa_spawn(const struct sa_spec *spec) {
    if (spec->new_namespaces) {
        pid_t pid = sa_clone(spec, CLONE_NEWPID | CLONE_NEWNS);
        return pid < 0 && errno == EINVAL ? sa_clone(spec, 0) : pid;
    }
    if (spec->join_pid_ns >= 0 && setns(spec->join_pid_ns, CLONE_NEWPID) < 0) return -1;
    pid_t pid = sa_clone(spec, 0);
    if (spec->join_pid_ns >= 0) {
        int err = errno;
        // Back to the agent's namespace for this thread's later forks. Entering one's own
        // active pid namespace is always permitted, so this cannot fail in practice.
        if (setns(spec->home_pid_ns, CLONE_NEWPID) < 0) {
            if (pid > 0) kill(pid, SIGKILL);
            return -1;
        }
        errno = err;
    }
    return pid;
}

int sa_finit_module(int fd, const char *params, int flags) {
    return (int)syscall(SYS_finit_module, fd, params, flags);
}

/// Closes `fd` keeping errno; returns -1.
static int sa_close_failed(int fd) {
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}

int sa_set_window_size(int fd, unsigned short rows, unsigned short columns) {
    struct winsize size = {.ws_row = rows, .ws_col = columns};
    return ioctl(fd, TIOCSWINSZ, &size);
}

int sa_open_pty(const char *ptmx, int *master, int *slave, unsigned short rows, unsigned short columns) {
    int m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    int unlock = 0;
    int s = -1;
    if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0
        || (rows > 0 && columns > 0 && sa_set_window_size(m, rows, columns) < 0)) {
        if (s >= 0) sa_close_failed(s);
        return sa_close_failed(m);
    }
    *master = m;
    *slave = s;
    return 0;
}

int sa_accept(int listener) {
    return accept4(listener, NULL, NULL, SOCK_CLOEXEC);
}

int sa_mknod_char(const char *path, unsigned int major, unsigned int minor) {
    return mknod(path, S_IFCHR | 0666, makedev(major, minor));
}

int sa_power_off(void) {
    return reboot(RB_POWER_OFF);
}

/// A close-on-exec AF_VSOCK stream socket and the address of `cid`:`port`.
static int sa_vsock_socket(unsigned int cid, unsigned int port, struct sockaddr_vm *address) {
    memset(address, 0, sizeof *address);
    address->svm_family = AF_VSOCK;
    address->svm_port = port;
    address->svm_cid = cid;
    return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

int sa_vsock_listen(unsigned int port, int backlog) {
    struct sockaddr_vm address;
    int fd = sa_vsock_socket(VMADDR_CID_ANY, port, &address);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, backlog) < 0) return sa_close_failed(fd);
    return fd;
}

int sa_vsock_connect(unsigned int cid, unsigned int port) {
    struct sockaddr_vm address;
    int fd = sa_vsock_socket(cid, port, &address);
    if (fd < 0) return -1;
    int result;
    do {
        result = connect(fd, (struct sockaddr *)&address, sizeof address);
    } while (result < 0 && errno == EINTR);
    return result < 0 ? sa_close_failed(fd) : fd;
}
