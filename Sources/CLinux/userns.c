#define _GNU_SOURCE
#include "userns.h"
#include "confine.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int sl_write_id_maps(pid_t pid, const char *uid_map, const char *gid_map, const char **step) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
    if (sl_write_file(path, uid_map) < 0) { *step = "writing uid_map"; return -1; }
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
    if (sl_write_file(path, gid_map) < 0) { *step = "writing gid_map"; return -1; }
    return 0;
}

int sl_idmapped_tree(const char *path, const char *uid_map, const char *gid_map, const char **step) {
    // The holder lives in a new user namespace (cloned into it: no race with the maps)
    // until its namespace is open here; it only waits for EOF on the pipe.
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0) { *step = "pipe2"; return -1; }
    pid_t holder = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
    if (holder == 0) {
        char byte;
        close(hold[1]);
        while (read(hold[0], &byte, 1) < 0 && errno == EINTR) {}
        _exit(0);
    }
    int saved = errno;
    close(hold[0]);
    if (holder < 0) {
        close(hold[1]);
        errno = saved;
        *step = "clone(CLONE_NEWUSER)";
        return -1;
    }
    int userns = -1;
    if (sl_write_id_maps(holder, uid_map, gid_map, step) == 0) {
        char ns[64];
        snprintf(ns, sizeof ns, "/proc/%d/ns/user", (int)holder);
        userns = open(ns, O_RDONLY | O_CLOEXEC);
        if (userns < 0) *step = "opening the user namespace";
    }
    saved = errno;
    close(hold[1]);
    while (waitpid(holder, NULL, 0) < 0 && errno == EINTR) {}
    if (userns < 0) { errno = saved; return -1; }

    int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) {
        saved = errno;
        close(userns);
        errno = saved;
        *step = "open_tree";
        return -1;
    }
    struct mount_attr attributes;
    memset(&attributes, 0, sizeof attributes);
    attributes.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY;
    attributes.userns_fd = (__u64)userns;
    int result = (int)syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attributes, sizeof attributes);
    saved = errno;
    close(userns);
    if (result < 0) {
        close(tree);
        errno = saved;
        *step = "mount_setattr(MOUNT_ATTR_IDMAP)";
        return -1;
    }
    return tree;
}

// nftw passes no context: the walk's parameters (one walk at a time; callers serialise).
static uid_t shift_uid;
static gid_t shift_gid;
static unsigned shift_size;

static int shift_entry(const char *path, const struct stat *info, int type, struct FTW *walk) {
    (void)type;
    (void)walk;
    uid_t uid = info->st_uid < shift_size ? info->st_uid + shift_uid : info->st_uid;
    gid_t gid = info->st_gid < shift_size ? info->st_gid + shift_gid : info->st_gid;
    if (uid == info->st_uid && gid == info->st_gid) return 0;
    if (lchown(path, uid, gid) < 0) return -1;
    // chown(2) clears the set-user-ID and set-group-ID bits of a regular file.
    if (S_ISREG(info->st_mode) && (info->st_mode & (S_ISUID | S_ISGID)) && chmod(path, info->st_mode & 07777) < 0)
        return -1;
    return 0;
}

int sl_shift_tree_owners(const char *path, uid_t uid_base, gid_t gid_base, unsigned size) {
    shift_uid = uid_base;
    shift_gid = gid_base;
    shift_size = size;
    return nftw(path, shift_entry, 64, FTW_PHYS) == 0 ? 0 : -1;
}
