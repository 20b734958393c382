#ifndef CLINUX_VMMJAIL_H
#define CLINUX_VMMJAIL_H

#include <sys/types.h>

/// swiftlet-vmm's jail (docs/architecture.md, "Processes"; after Firecracker's jailer): a private
/// mount namespace whose root is a fresh tmpfs at `jail_root` holding bind mounts of
/// `bind_dirs` (each at its own host path), entered with pivot_root; then the supplementary
/// groups are dropped, the ids set to `uid`/`gid` and no_new_privs set. Call before any
/// other thread exists (the namespace and ids are per thread in the kernel). Returns 0, or
/// -1 with errno set and `*failed_call` naming the call that failed.
int cl_vmm_enter_jail(const char *jail_root, const char *const *bind_dirs, int bind_count,
                      uid_t uid, gid_t gid, const char **failed_call);

/// Names system call `number` in the SIGSYS handler's message (names are copied; numbers
/// at or past CL_VMM_SYSCALL_NAME_COUNT are reported by number only).
#define CL_VMM_SYSCALL_NAME_COUNT 512
void cl_vmm_set_syscall_name(int number, const char *name);

/// Installs the SIGSYS handler for seccomp's SECCOMP_RET_TRAP: it writes
/// `swiftlet-vmm: seccomp: forbidden system call <number> (<name>)` (for ioctl, with
/// ` request 0x<hex>`) to stderr and ends
/// the process by SIGSYS (async-signal-safe: write, sigaction, tgkill only).
int cl_vmm_install_sigsys_handler(void);

#endif
