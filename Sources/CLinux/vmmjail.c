#define _GNU_SOURCE
#include "vmmjail.h"
#include "nsexec.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define FAIL(name) do { *failed_call = name; return -1; } while (0)

int cl_vmm_enter_jail(const char *jail_root, const char *const *bind_dirs, int bind_count,
                      uid_t uid, gid_t gid, const char **failed_call) {
    char target[4096];
    if (unshare(CLONE_NEWNS) != 0) FAIL("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) FAIL("mount(/, MS_PRIVATE)");
    if (sl_make_directories(jail_root) != 0) FAIL("mkdir(jail root)");
    if (mount("swiftlet-vmm", jail_root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") != 0)
        FAIL("mount(tmpfs)");
    for (int i = 0; i < bind_count; i++) {
        if ((size_t)snprintf(target, sizeof target, "%s%s", jail_root, bind_dirs[i]) >= sizeof target) {
            errno = ENAMETOOLONG;
            FAIL("bind mount path");
        }
        if (sl_make_directories(target) != 0) FAIL("mkdir(bind target)");
        if (mount(bind_dirs[i], target, NULL, MS_BIND | MS_REC, NULL) != 0) FAIL("mount(MS_BIND)");
    }
    if (snprintf(target, sizeof target, "%s/old-root", jail_root) >= (int)sizeof target) {
        errno = ENAMETOOLONG;
        FAIL("old root path");
    }
    if (mkdir(target, 0700) != 0) FAIL("mkdir(old root)");
    if (syscall(SYS_pivot_root, jail_root, target) != 0) FAIL("pivot_root");
    if (chdir("/") != 0) FAIL("chdir(/)");
    if (umount2("/old-root", MNT_DETACH) != 0) FAIL("umount2(old root)");
    if (rmdir("/old-root") != 0) FAIL("rmdir(old root)");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k") != 0)
        FAIL("mount(/, MS_REMOUNT|MS_RDONLY)");
    if (setgroups(0, NULL) != 0) FAIL("setgroups");
    if (setresgid(gid, gid, gid) != 0) FAIL("setresgid");
    if (setresuid(uid, uid, uid) != 0) FAIL("setresuid");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FAIL("prctl(PR_SET_NO_NEW_PRIVS)");
    return 0;
}

static char syscall_names[CL_VMM_SYSCALL_NAME_COUNT][32];

void cl_vmm_set_syscall_name(int number, const char *name) {
    if (number < 0 || number >= CL_VMM_SYSCALL_NAME_COUNT || name == NULL) return;
    strncpy(syscall_names[number], name, sizeof syscall_names[number] - 1);
}

static size_t append(char *buffer, size_t at, size_t capacity, const char *text) {
    while (*text && at + 1 < capacity) buffer[at++] = *text++;
    return at;
}

/// Appends `value` in base `base` (10 or 16).
static size_t append_number(char *buffer, size_t at, size_t capacity, unsigned long value, unsigned base) {
    char digits[24];
    int count = 0;
    do { digits[count++] = "0123456789abcdef"[value % base]; value /= base; } while (value > 0 && count < 24);
    while (count > 0 && at + 1 < capacity) buffer[at++] = digits[--count];
    return at;
}

static void sigsys_handler(int signo, siginfo_t *info, void *context) {
    char line[192];
    int number = info->si_syscall;
    size_t at = append(line, 0, sizeof line, "swiftlet-vmm: seccomp: forbidden system call ");
    at = append_number(line, at, sizeof line, number < 0 ? 0 : (unsigned long)number, 10);
    if (number >= 0 && number < CL_VMM_SYSCALL_NAME_COUNT && syscall_names[number][0]) {
        at = append(line, at, sizeof line, " (");
        at = append(line, at, sizeof line, syscall_names[number]);
        at = append(line, at, sizeof line, ")");
    }
#if defined(__x86_64__)
    // An ioctl is allowed by request number: name the request (the second argument, rsi).
    if (number == SYS_ioctl && context != NULL) {
        const ucontext_t *registers = context;
        at = append(line, at, sizeof line, " request 0x");
        at = append_number(line, at, sizeof line, (unsigned long)registers->uc_mcontext.gregs[REG_RSI], 16);
    }
#else
    (void)context;
#endif
    at = append(line, at, sizeof line, "\n");
    ssize_t ignored = write(2, line, at);
    (void)ignored;
    // SA_RESETHAND made the action the default one; the signal, blocked while this
    // handler runs, is delivered with it on return.
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), signo);
}

int cl_vmm_install_sigsys_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = sigsys_handler;
    action.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGSYS, &action, NULL);
}
