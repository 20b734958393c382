// Docker's default confinement of a container's file system view (runtime spec
// config-linux.md `maskedPaths`/`readonlyPaths`, moby oci/defaults.go), shared by the
// namespace child (nsexec.c) and the guest agent's child (agentexec.c). Async-signal-safe:
// both run between fork and execve of a multi-threaded process.
#ifndef SWIFTLET_CONFINE_H
#define SWIFTLET_CONFINE_H

#include <stdint.h>

/// Masks each path of the NULL-terminated `paths` (absolute, in the caller's root): a
/// directory gets an empty read-only tmpfs over it, anything else `/dev/null` bound over
/// it; a missing path is skipped. Returns -1 with errno set and `*failed` naming the path.
int sl_mask_paths(const char *const *paths, const char **failed);

/// Makes each path of the NULL-terminated `paths` read-only (bound onto itself, then
/// remounted read-only, nosuid, nodev, noexec); a missing path is skipped. Returns -1 with
/// errno set and `*failed` naming the path.
int sl_readonly_paths(const char *const *paths, const char **failed);

/// Writes `value` to the file `path` (a /proc/sys entry, an id map). Returns -1 with errno set.
int sl_write_file(const char *path, const char *value);

/// The seccomp filter and no_new_privs of a container process, applied around its
/// credential change: with no_new_privs the filter is the last step before execve; without
/// it the kernel only lets a process with CAP_SYS_ADMIN install one, so it goes in before
/// the capabilities are dropped (as runc does), and the profile must allow what follows.
struct sl_process_confinement {
    int no_new_privs;
    const void *seccomp_program;      // struct sock_filter[]; NULL: no filter
    unsigned short seccomp_instructions;
};

/// Before the credential change: installs the filter when no_new_privs is off. Returns -1
/// with errno set and `*step` naming the call.
int sl_confine_before_credentials(const struct sl_process_confinement *confinement, const char **step);

/// After the credential change, just before execve: no_new_privs, then the filter when
/// no_new_privs is on. Returns -1 with errno set and `*step` naming the call.
int sl_confine_before_exec(const struct sl_process_confinement *confinement, const char **step);

#endif
