// Small syscall wrappers for Swift (see nsexec.h): pidfds, fd passing, CLOEXEC pipes and
// socket pairs, posix_spawn extras hidden behind _GNU_SOURCE; container credentials and
// the PATH-searching execve for the forked children of nsexec.c and agentexec.c (which
// may only make async-signal-safe calls).
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

int sl_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int sl_pidfd_send_signal(int pidfd, int sig) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int sl_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int sl_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int sl_recv_fd(int socket) {
    char data;
    struct iovec iov = {&data, 1};
    union {
        char buffer[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = {0};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    ssize_t n;
    do {
        n = recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return (int)n;
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    if (!header || header->cmsg_type != SCM_RIGHTS) {
        errno = EBADMSG;
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

int sl_socketpair_cloexec(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
}

int sl_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

const short SL_POSIX_SPAWN_SETSID = POSIX_SPAWN_SETSID;

int sl_apply_credentials(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, uint64_t capabilities,
                         int last_cap, const char **step) {
    for (int cap = 0; cap <= last_cap; cap++) {
        *step = "dropping capabilities";
        if (!(capabilities & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return -1;
    }
    // Raw syscalls: glibc's wrappers apply a credential change to every thread it knows
    // of, and a child cloned without glibc's fork still lists the parent's threads. It
    // signals them by thread id, which in a new pid namespace may be the child's own: the
    // guest agent's main thread is 1, as is a container's init.
    *step = "setgroups";
    if (syscall(SYS_setgroups, ngroups, groups) < 0) return -1;
    *step = "setgid";
    if (syscall(SYS_setresgid, gid, gid, gid) < 0) return -1;
    *step = "setuid";
    if (syscall(SYS_setresuid, uid, uid, uid) < 0) return -1;
    if (uid != 0) return 0;
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    for (int i = 0; i < 2; i++) {
        uint32_t bits = (uint32_t)(capabilities >> (32 * i));
        data[i].effective = data[i].permitted = data[i].inheritable = bits;
    }
    *step = "capset";
    return (int)syscall(SYS_capset, &header, data);
}

int sl_make_directories(const char *path) {
    char buffer[4096];
    size_t length = strlen(path);
    if (length == 0 || length >= sizeof buffer) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buffer, path, length + 1);
    for (size_t i = 1; i <= length; i++) {
        if (buffer[i] != '/' && buffer[i] != '\0') continue;
        char saved = buffer[i];
        buffer[i] = '\0';
        if (mkdir(buffer, 0755) != 0 && errno != EEXIST) return -1;
        buffer[i] = saved;
    }
    return 0;
}

void sl_append(char *dst, const char *src, size_t size) {
    size_t used = strlen(dst);
    size_t n = strlen(src);
    if (used + 1 >= size) return;
    if (n > size - used - 1) n = size - used - 1;
    memcpy(dst + used, src, n);
    dst[used + n] = 0;
}

static void sl_exec_failed(const char *command, int err, sl_fail_fn fail, const void *context) {
    char what[4096] = "unable to start container process: exec: \"";
    sl_append(what, command, sizeof what);
    sl_append(what, "\"", sizeof what);
    fail(context, err == ENOENT ? 127 : 126, what, err);
}

void sl_exec_command(const char *const *argv, const char *const *envp, sl_fail_fn fail, const void *context) {
    const char *command = argv[0];
    if (strchr(command, '/')) {
        execve(command, (char *const *)argv, (char *const *)envp);
        sl_exec_failed(command, errno, fail, context);
    }
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const char *const *entry = envp; *entry; entry++) {
        if (strncmp(*entry, "PATH=", 5) == 0) {
            path = *entry + 5;
            break;
        }
    }
    while (*command) {
        const char *end = strchr(path, ':');
        size_t length = end ? (size_t)(end - path) : strlen(path);
        char candidate[4096] = ".";
        if (length > 0 && length < sizeof candidate) {
            memcpy(candidate, path, length);
            candidate[length] = 0;
        }
        sl_append(candidate, "/", sizeof candidate);
        sl_append(candidate, command, sizeof candidate);
        struct stat info;
        if (stat(candidate, &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 0111)) {
            execve(candidate, (char *const *)argv, (char *const *)envp);
            sl_exec_failed(command, errno, fail, context);
        }
        if (!end) break;
        path = end + 1;
    }
    char what[4096] = "unable to start container process: exec: \"";
    sl_append(what, command, sizeof what);
    sl_append(what, "\": executable file not found in $PATH", sizeof what);
    fail(context, 127, what, 0);
}
