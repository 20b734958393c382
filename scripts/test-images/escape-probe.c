// escape-probe: tries known ways out of a container and prints one line per technique,
// "<name> blocked|open <detail>". It never changes the host: files are only opened for
// writing (nothing is written), calls that would act get arguments that make them fail
// once past the kernel's permission checks, and namespace changes happen in a child.
// Built statically into the busybox test image (scripts/test-images/build) as
// /bin/escape-probe; RuntimeTests' ConfinementTests run it under both isolations.
// Usage: escape-probe [OUTSIDE_PID]   (a pid of the host, invisible from the container)
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, int blocked, const char *detail) {
    printf("%s %s %s\n", name, blocked ? "blocked" : "open", detail);
}

/// A call that failed is blocked; the detail is its errno's name.
static void call(const char *name, long result) {
    report(name, result < 0, result < 0 ? strerror(errno) : "succeeded");
}

static void open_for_writing(const char *name, const char *path) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    report(name, fd < 0, fd < 0 ? strerror(errno) : "opened for writing");
    if (fd >= 0) close(fd);
}

/// Blocked when the file reads as empty (masked with /dev/null) or cannot be read.
static void read_nothing(const char *name, const char *path) {
    char buffer[256];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buffer, sizeof buffer);
    char detail[64];
    snprintf(detail, sizeof detail, n < 0 ? "unreadable" : "%zd bytes", n);
    report(name, n <= 0, detail);
    if (fd >= 0) close(fd);
}

static void empty_directory(const char *name, const char *path) {
    DIR *dir = opendir(path);
    int entries = 0;
    if (dir) {
        struct dirent *entry;
        while ((entry = readdir(dir))) entries += strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..");
        closedir(dir);
    }
    char detail[64];
    snprintf(detail, sizeof detail, "%d entries", entries);
    report(name, entries == 0, detail);
}

/// The value of a "Key:\tvalue" line of /proc/self/status.
static void status_field(const char *key, char *value, size_t size) {
    FILE *file = fopen("/proc/self/status", "r");
    char line[256];
    value[0] = 0;
    while (file && fgets(line, sizeof line, file)) {
        if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':') {
            snprintf(value, size, "%s", line + strlen(key) + 1 + strspn(line + strlen(key) + 1, " \t"));
            value[strcspn(value, "\n")] = 0;
        }
    }
    if (file) fclose(file);
}

/// Runs `body` in a child (namespace changes stay there); blocked when it exits non-zero.
static void in_child(const char *name, int (*body)(void)) {
    pid_t pid = fork();
    if (pid == 0) _exit(body() < 0 ? errno : 0);
    int status = 0;
    waitpid(pid, &status, 0);
    int error = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    report(name, error != 0, error ? strerror(error) : "succeeded");
}

static int unshare_user(void) { return unshare(CLONE_NEWUSER); }
static int unshare_mount(void) { return unshare(CLONE_NEWNS); }

static int clone_new_namespace(void) {
    long pid = syscall(SYS_clone, CLONE_NEWNS | CLONE_NEWUTS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    char value[128];
    status_field("Seccomp", value, sizeof value);
    report("seccomp-filter", strcmp(value, "2") == 0, value);
    status_field("CapEff", value, sizeof value);
    report("capabilities", strcmp(value, "00000000a80425fb") == 0, value);
    open_for_writing("proc-sys-core-pattern", "/proc/sys/kernel/core_pattern");
    open_for_writing("proc-sys-modprobe", "/proc/sys/kernel/modprobe");
    open_for_writing("proc-sys-net", "/proc/sys/net/ipv4/ip_forward");
    open_for_writing("proc-sysrq-trigger", "/proc/sysrq-trigger");
    read_nothing("proc-kcore", "/proc/kcore");
    read_nothing("proc-keys", "/proc/keys");
    read_nothing("proc-timer-list", "/proc/timer_list");
    empty_directory("sys-firmware", "/sys/firmware");
    open_for_writing("sys-write", "/sys/kernel/uevent_helper");
    mkdir("/tmp/probe-mnt", 0755);
    int mounted = mount("probe", "/tmp/probe-mnt", "tmpfs", 0, NULL);
    call("mount-tmpfs", mounted);
    if (mounted == 0) umount("/tmp/probe-mnt");
    in_child("unshare-user", unshare_user);
    in_child("unshare-mount", unshare_mount);
    in_child("clone-namespace", clone_new_namespace);
    call("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0));
    char handle[16] = {0};
    call("open-by-handle-at", syscall(SYS_open_by_handle_at, AT_FDCWD, handle, O_RDONLY));
    call("finit-module", syscall(SYS_finit_module, -1, "", 0));
    call("kexec-load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
    unlink("/tmp/probe-block");
    call("mknod-block-device", mknod("/tmp/probe-block", S_IFBLK | 0600, makedev(8, 0)));
    unlink("/tmp/probe-block");
    pid_t outside = argc > 1 ? (pid_t)atoi(argv[1]) : 1;
    long traced = outside > 1 ? ptrace(PTRACE_ATTACH, outside, 0, 0) : -1;
    call("ptrace-outside", traced);
    if (traced == 0) ptrace(PTRACE_DETACH, outside, 0, 0);
    FILE *cgroup = fopen("/proc/self/cgroup", "r");
    char line[512] = "";
    int host_paths = 0;
    while (cgroup && fgets(line, sizeof line, cgroup)) host_paths += strstr(line, "swiftlet") != NULL;
    if (cgroup) fclose(cgroup);
    report("cgroup-namespace", host_paths == 0, host_paths ? "host cgroup paths visible" : "own root");
    return 0;
}
