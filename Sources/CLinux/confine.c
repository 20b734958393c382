// Masked and read-only paths, sysctl writes and the seccomp/no_new_privs ordering of a
// container process (see confine.h). Only raw system calls: this runs in forked children.
#define _GNU_SOURCE
#include "confine.h"
#include "seccompload.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_mask_paths(const char *const *paths, const char **failed) {
    for (; paths && *paths; paths++) {
        struct stat info;
        *failed = *paths;
        if (stat(*paths, &info) < 0) {
            if (errno == ENOENT) continue;
            return -1;
        }
        int result = S_ISDIR(info.st_mode)
            ? mount("tmpfs", *paths, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555")
            : mount("/dev/null", *paths, NULL, MS_BIND, NULL);
        if (result < 0) return -1;
    }
    return 0;
}

int sl_readonly_paths(const char *const *paths, const char **failed) {
    for (; paths && *paths; paths++) {
        *failed = *paths;
        if (mount(*paths, *paths, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (errno == ENOENT) continue;
            return -1;
        }
        unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC;
        if (mount(*paths, *paths, NULL, flags, NULL) < 0) return -1;
    }
    return 0;
}

int sl_write_file(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t left = strlen(value);
    const char *next = value;
    while (left > 0) {
        ssize_t n = write(fd, next, left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int error = errno;
            close(fd);
            errno = error;
            return -1;
        }
        next += n;
        left -= (size_t)n;
    }
    return close(fd);
}

static int sl_install_filter(const struct sl_process_confinement *confinement, const char **step) {
    if (!confinement->seccomp_program || confinement->seccomp_instructions == 0) return 0;
    *step = "installing the seccomp filter";
    return sl_seccomp_install(confinement->seccomp_program, confinement->seccomp_instructions);
}

int sl_confine_before_credentials(const struct sl_process_confinement *confinement, const char **step) {
    return confinement->no_new_privs ? 0 : sl_install_filter(confinement, step);
}

int sl_confine_before_exec(const struct sl_process_confinement *confinement, const char **step) {
    if (!confinement->no_new_privs) return 0;
    *step = "no_new_privs";
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -1;
    return sl_install_filter(confinement, step);
}
