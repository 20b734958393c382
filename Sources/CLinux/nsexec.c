// The namespace container child (see nsexec.h). Only async-signal-safe calls and raw
// syscalls run after clone: no malloc, no stdio, no locks.
#define _GNU_SOURCE
#include "nsexec.h"
#include "netconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define PATH_BUF 4096

static size_t sl_strlcpy(char *dst, const char *src, size_t size) {
    size_t n = strlen(src);
    size_t c = n < size - 1 ? n : size - 1;
    memcpy(dst, src, c);
    dst[c] = 0;
    return n;
}

static void sl_write_all(int fd, const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(fd, text, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

/// Writes "swiftlet: <what>: <strerror>" (errno != 0) to stderr and exits with `code`.
static void sl_fail(int code, const char *what, int err) {
    char message[PATH_BUF + 256] = "swiftlet: ";
    sl_append(message, what, sizeof message);
    if (err != 0) {
        sl_append(message, ": ", sizeof message);
        sl_append(message, strerror(err), sizeof message);
    }
    sl_append(message, "\n", sizeof message);
    sl_write_all(2, message);
    _exit(code);
}

static void sl_check(int result, const char *what) {
    if (result < 0) sl_fail(SL_EXIT_RUNTIME, what, errno);
}

/// mkdir -p of an absolute path (mode 0755); a failure ends the child.
static void sl_mkdir_all(const char *path) {
    if (sl_make_directories(path) < 0) sl_fail(SL_EXIT_RUNTIME, path, errno);
}

static void sl_under(char *out, const char *root, const char *path) {
    sl_strlcpy(out, root, PATH_BUF);
    sl_append(out, path, PATH_BUF);
}

/// Creates the directory `root`+`target` (target absolute) for a mount point, refusing a
/// path through a symbolic link: before pivot_root a link would resolve on the host.
static void sl_mount_point(char *path, const char *root, const char *target) {
    sl_under(path, root, target);
    for (char *p = path + strlen(root) + 1; ; p++) {
        if (*p != '/' && *p != 0) continue;
        char saved = *p;
        *p = 0;
        struct stat info;
        if (lstat(path, &info) < 0) {
            if (errno != ENOENT || mkdir(path, 0755) < 0) sl_fail(SL_EXIT_RUNTIME, target, errno);
        } else if (S_ISLNK(info.st_mode) || !S_ISDIR(info.st_mode)) {
            char what[PATH_BUF + 64] = "mount point ";
            sl_append(what, target, sizeof what);
            sl_append(what, " is a symbolic link or not a directory in the image", sizeof what);
            sl_fail(SL_EXIT_RUNTIME, what, 0);
        }
        *p = saved;
        if (saved == 0) break;
    }
}

static void sl_mount(const char *source, const char *root, const char *target, const char *type,
                     unsigned long flags, const char *data) {
    char path[PATH_BUF];
    sl_mount_point(path, root, target);
    if (mount(source, path, type, flags, data) < 0) {
        char what[PATH_BUF + 32] = "mounting ";
        sl_append(what, target, sizeof what);
        sl_fail(SL_EXIT_RUNTIME, what, errno);
    }
}

/// One of the standard device nodes (`name` is its host path too): made with mknod, or in
/// a user namespace, where mknod is refused, the host's node bound over an empty file.
static void sl_mknod(const struct sl_spec *spec, const char *name, unsigned major, unsigned minor) {
    char path[PATH_BUF];
    sl_under(path, spec->rootfs, name);
    if (spec->user_namespace) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        sl_check(fd, name);
        close(fd);
        sl_check(mount(name, path, NULL, MS_BIND, NULL), name);
        return;
    }
    if (mknod(path, S_IFCHR | 0666, makedev(major, minor)) < 0) sl_fail(SL_EXIT_RUNTIME, name, errno);
    sl_check(chmod(path, 0666), name);
}

/// A host device node (`--privileged`), its directories made first; one the standard set
/// already made is left as it is.
static void sl_make_device(const char *root, const struct sl_device *device) {
    char path[PATH_BUF];
    sl_under(path, root, device->path);
    char *slash = strrchr(path, '/');
    if (slash && slash > path + strlen(root)) {
        *slash = 0;
        sl_mkdir_all(path);
        *slash = '/';
    }
    if (mknod(path, device->mode, device->rdev) < 0 && errno != EEXIST) sl_fail(SL_EXIT_RUNTIME, device->path, errno);
}

static void sl_symlink(const char *target, const char *root, const char *name) {
    char path[PATH_BUF];
    sl_under(path, root, name);
    if (symlink(target, path) < 0 && errno != EEXIST) sl_fail(SL_EXIT_RUNTIME, name, errno);
}

/// The root filesystem: overlay, volumes, /proc, /sys, /dev, then pivot_root.
static void sl_setup_rootfs(const struct sl_spec *spec) {
    const char *root = spec->rootfs;
    sl_check(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "making / private");
    if (spec->lower_mountpoint) {
        sl_check((int)syscall(SYS_move_mount, spec->lower_tree_fd, "", AT_FDCWD, spec->lower_mountpoint,
                              MOVE_MOUNT_F_EMPTY_PATH),
                 "attaching the idmapped image tree");
    }
    sl_check(mount("overlay", root, "overlay", spec->nodev_rootfs ? MS_NODEV : 0, spec->overlay_data),
             "mounting the overlay rootfs");
    for (size_t i = 0; i < spec->nbinds; i++) {
        const struct sl_bind *bind = &spec->binds[i];
        sl_mount(bind->source, root, bind->target, NULL, MS_BIND | MS_REC, NULL);
        if (bind->readonly) {
            sl_mount(NULL, root, bind->target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
        }
    }
    const unsigned long hardened = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    sl_mount("proc", root, "/proc", "proc", hardened, NULL);
    sl_mount("sysfs", root, "/sys", "sysfs", spec->writable_sysfs ? hardened : hardened | MS_RDONLY, NULL);
    sl_mount("tmpfs", root, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
    sl_mknod(spec, "/dev/null", 1, 3);
    sl_mknod(spec, "/dev/zero", 1, 5);
    sl_mknod(spec, "/dev/full", 1, 7);
    sl_mknod(spec, "/dev/random", 1, 8);
    sl_mknod(spec, "/dev/urandom", 1, 9);
    sl_mknod(spec, "/dev/tty", 5, 0);
    for (size_t i = 0; i < spec->ndevices; i++) sl_make_device(root, &spec->devices[i]);
    sl_mount("devpts", root, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5");
    sl_mount("shm", root, "/dev/shm", "tmpfs", hardened, "mode=1777,size=65536k");
    sl_mount("mqueue", root, "/dev/mqueue", "mqueue", hardened, NULL);
    sl_symlink("pts/ptmx", root, "/dev/ptmx");
    sl_symlink("/proc/self/fd", root, "/dev/fd");
    sl_symlink("/proc/self/fd/0", root, "/dev/stdin");
    sl_symlink("/proc/self/fd/1", root, "/dev/stdout");
    sl_symlink("/proc/self/fd/2", root, "/dev/stderr");
    for (size_t i = 0; i < spec->ntmpfs; i++) {
        sl_mount("tmpfs", root, spec->tmpfs[i].target, "tmpfs", spec->tmpfs[i].flags, spec->tmpfs[i].data);
    }
    sl_check(chdir(root), "entering the rootfs");
    sl_check((int)syscall(SYS_pivot_root, ".", "."), "pivot_root");
    sl_check(umount2(".", MNT_DETACH), "detaching the old root");
    sl_check(chdir("/"), "chdir /");
}

/// After pivot_root, in the container's own namespaces: sysctls, then the masked and
/// read-only paths (so /proc/sys is still writable for the sysctls), then a read-only root.
static void sl_confine_root(const struct sl_spec *spec) {
    for (size_t i = 0; i < spec->nsysctls; i++) {
        if (sl_write_file(spec->sysctls[i].path, spec->sysctls[i].value) < 0) {
            char what[PATH_BUF] = "setting sysctl ";
            sl_append(what, spec->sysctls[i].path, sizeof what);
            sl_fail(SL_EXIT_RUNTIME, what, errno);
        }
    }
    const char *failed = "";
    if (sl_mask_paths(spec->masked_paths, &failed) < 0) {
        char what[PATH_BUF] = "masking ";
        sl_append(what, failed, sizeof what);
        sl_fail(SL_EXIT_RUNTIME, what, errno);
    }
    if (sl_readonly_paths(spec->readonly_paths, &failed) < 0) {
        char what[PATH_BUF] = "making read-only ";
        sl_append(what, failed, sizeof what);
        sl_fail(SL_EXIT_RUNTIME, what, errno);
    }
    if (spec->readonly_rootfs) {
        sl_check(mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL), "making the root read-only");
    }
}

/// User, groups, capabilities (the container's set for root, none otherwise), with the
/// seccomp filter and no_new_privs before or after them (confine.h).
static void sl_set_credentials(const struct sl_spec *spec) {
    const char *step = "";
    if (sl_confine_before_credentials(&spec->confinement, &step) < 0) sl_fail(SL_EXIT_RUNTIME, step, errno);
    if (sl_apply_credentials(spec->uid, spec->gid, spec->groups, spec->ngroups, spec->capabilities,
                             spec->last_cap, &step) < 0) {
        sl_fail(SL_EXIT_RUNTIME, step, errno);
    }
}

static void sl_fail_exec(const void *context, int status, const char *what, int err) {
    (void)context;
    sl_fail(status, what, err);
}

static void sl_setup_stdio(const struct sl_spec *spec) {
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = fcntl(spec->stdio[i], F_DUPFD_CLOEXEC, 3);
        if (fds[i] < 0) _exit(SL_EXIT_RUNTIME);
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(fds[i], i) < 0) _exit(SL_EXIT_RUNTIME);
    }
}

/// Opens a pseudo-terminal from the container's /dev/ptmx, makes its slave the
/// controlling terminal and stdio, and passes the master to the parent.
static void sl_setup_tty(const struct sl_spec *spec) {
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    sl_check(master, "opening /dev/ptmx");
    int unlock = 0;
    sl_check(ioctl(master, TIOCSPTLCK, &unlock), "unlocking the pty");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    sl_check(slave, "opening the pty slave");
    if (spec->rows > 0 && spec->columns > 0) {
        struct winsize size = {.ws_row = spec->rows, .ws_col = spec->columns};
        sl_check(ioctl(master, TIOCSWINSZ, &size), "setting the terminal size");
    }
    sl_check(setsid(), "setsid");
    sl_check(ioctl(slave, TIOCSCTTY, 0), "setting the controlling terminal");
    char data = 0;
    struct iovec iov = {&data, 1};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {0};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &master, sizeof(int));
    sl_check((int)sendmsg(spec->console_socket, &message, MSG_NOSIGNAL), "sending the pty master");
    close(master);
    close(spec->console_socket);
    for (int i = 0; i < 3; i++) sl_check(dup2(slave, i), "dup2 pty");
    if (slave > 2) close(slave);
}

/// The process side, after namespaces: TTY, workdir, credentials, execve.
static void sl_run_process(const struct sl_spec *spec) {
    if (spec->tty) sl_setup_tty(spec);
    if (spec->cwd[0] == '/') sl_mkdir_all(spec->cwd);
    if (chdir(spec->cwd) < 0) {
        char what[PATH_BUF] = "chdir to cwd (\"";
        sl_append(what, spec->cwd, sizeof what);
        sl_append(what, "\") set in config failed", sizeof what);
        sl_fail(SL_EXIT_NOT_EXECUTABLE, what, errno);
    }
    sl_set_credentials(spec);
    const char *step = "";
    if (sl_confine_before_exec(&spec->confinement, &step) < 0) sl_fail(SL_EXIT_RUNTIME, step, errno);
    sl_exec_command(spec->argv, spec->envp, sl_fail_exec, NULL);
}

static void sl_wait_for_parent(int sync_fd, int close_fd) {
    close(close_fd);
    char byte;
    ssize_t n;
    do {
        n = read(sync_fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) _exit(SL_EXIT_RUNTIME);
    close(sync_fd);
}

static pid_t sl_clone(unsigned long flags) {
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, 0);
}

/// Join mode: enter the namespaces, then fork so the process is inside the pid namespace;
/// the intermediate closes every descriptor, waits and exits with the process's status
/// (128+N for signal N).
static void sl_join(const struct sl_spec *spec) {
    for (size_t i = 0; i < spec->n_ns_fds; i++) sl_check(setns(spec->ns_fds[i], 0), "setns");
    pid_t pid = sl_clone(0);
    if (pid < 0) sl_fail(SL_EXIT_RUNTIME, "fork", errno);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        sl_run_process(spec);
    }
    // The intermediate holds nothing open: a descriptor of the caller's it kept (the
    // write end of the process's stdin pipe, say) would keep the process from seeing
    // end of file.
    syscall(SYS_close_range, 0, ~0U, 0);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) _exit(SL_EXIT_RUNTIME);
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

pid_t sl_spawn(const struct sl_spec *spec) {
    unsigned long flags = spec->join_pid > 0 ? 0
        : CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC
            | (spec->net_mode == SL_NET_OWN ? CLONE_NEWNET : 0)
            | (spec->user_namespace ? CLONE_NEWUSER : 0);
    pid_t pid = sl_clone(flags);
    if (pid != 0) return pid;
    // Child: signals back to defaults, stdio in place, wait for the parent's cgroup setup.
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    sl_setup_stdio(spec);
    sl_wait_for_parent(spec->sync_fd, spec->sync_close_fd);
    // Nothing the parent process holds open leaks into the container.
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) sl_fail(SL_EXIT_RUNTIME, "close_range", errno);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (spec->join_pid > 0) sl_join(spec);
    if (spec->join_pid == 0 && spec->net_mode == SL_NET_JOIN) {
        sl_check(setns(spec->net_join_fd, CLONE_NEWNET), "joining the other container's network namespace");
    }
    // The parent has written the maps: become the namespace's root (host root is not in them).
    if (spec->user_namespace) {
        sl_check(setresgid(0, 0, 0), "setresgid in the user namespace");
        sl_check(setresuid(0, 0, 0), "setresuid in the user namespace");
    }
    if (spec->new_cgroup_namespace) sl_check(unshare(CLONE_NEWCGROUP), "creating the cgroup namespace");
    sl_setup_rootfs(spec);
    const char *step;
    if (spec->net_mode == SL_NET_OWN && sl_configure_interface("lo", 0, 0, 0, &step) < 0) sl_fail(SL_EXIT_RUNTIME, step, errno);
    if (spec->net_interface && spec->net_interface[0]) {
        if (sl_configure_interface(spec->net_interface, spec->net_address, spec->net_prefix, spec->net_gateway,
                                   &step) < 0) {
            sl_fail(SL_EXIT_RUNTIME, step, errno);
        }
    }
    if (spec->hostname[0]) sl_check(sethostname(spec->hostname, strlen(spec->hostname)), "sethostname");
    sl_confine_root(spec);
    sl_run_process(spec);
    return -1;
}
