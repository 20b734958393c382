// Small syscall wrappers for Swift (see nsexec.h): pidfds, fd passing, CLOEXEC pipes and
// socket pairs, posix_spawn extras hidden behind _GNU_SOURCE; container credentials for
// the forked children of nsexec.c and agentexec.c.
#define _GNU_SOURCE
#include "nsexec.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <spawn.h>
#include <string.h>
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
    *step = "setgroups";
    if (setgroups(ngroups, groups) < 0) return -1;
    *step = "setgid";
    if (setresgid(gid, gid, gid) < 0) return -1;
    *step = "setuid";
    if (setresuid(uid, uid, uid) < 0) return -1;
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
