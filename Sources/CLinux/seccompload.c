// See seccompload.h. Raw system calls only: the installer runs in forked children.
#define _GNU_SOURCE
#include "seccompload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int sl_seccomp_install(const void *program, unsigned short instructions) {
    struct sock_fprog filter = {.len = instructions, .filter = (struct sock_filter *)program};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &filter);
}

int sl_seccomp_probe(const void *program, unsigned short instructions, long number, const long arguments[6],
                     int *result_errno, int *signal) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -1;
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0);
    if (pid < 0) {
        close(report[0]);
        close(report[1]);
        return -1;
    }
    if (pid == 0) {
        close(report[0]);
        int error = 0;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sl_seccomp_install(program, instructions) < 0) {
            error = -errno;
        } else if (syscall(number, arguments[0], arguments[1], arguments[2], arguments[3], arguments[4],
                           arguments[5]) < 0) {
            error = errno;
        }
        (void)!write(report[1], &error, sizeof error);
        _exit(0);
    }
    close(report[1]);
    int error = 0;
    ssize_t n;
    do {
        n = read(report[0], &error, sizeof error);
    } while (n < 0 && errno == EINTR);
    close(report[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    *signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (error < 0) {
        errno = -error;
        return -1;
    }
    *result_errno = n == (ssize_t)sizeof error ? error : 0;
    return 0;
}

int sl_memfd(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}
