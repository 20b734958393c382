// Installing a compiled seccomp filter (seccomp(2), SECCOMP_SET_MODE_FILTER) in a forked
// container child: the filter is compiled beforehand by the parent (Runtime's
// SeccompProfile, with libseccomp), so the child only makes one raw, async-signal-safe call.
#ifndef SWIFTLET_SECCOMPLOAD_H
#define SWIFTLET_SECCOMPLOAD_H

/// Installs `instructions` classic BPF instructions (`struct sock_filter`, 8 bytes each) as
/// the calling thread's seccomp filter. The kernel requires no_new_privs or CAP_SYS_ADMIN.
/// Returns -1 with errno set on failure.
int sl_seccomp_install(const void *program, unsigned short instructions);

/// For tests: forks a child that sets no_new_privs, installs the filter and makes the raw
/// system call `number` with `arguments`; `*result_errno` is that call's errno (0 when it
/// succeeded), `*signal` the signal that killed the child (0 when it exited). Returns -1
/// with errno set when the child could not be run.
int sl_seccomp_probe(const void *program, unsigned short instructions, long number, const long arguments[6],
                     int *result_errno, int *signal);

/// memfd_create(name, MFD_CLOEXEC), which Swift cannot see without _GNU_SOURCE: where the
/// parent has libseccomp export a filter.
int sl_memfd(const char *name);

#endif
