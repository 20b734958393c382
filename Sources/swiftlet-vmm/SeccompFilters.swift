#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux
import CSeccomp
import Machine

/// swiftlet-vmm's per-thread seccomp filters (seccomp(2), built with libseccomp; after
/// Firecracker's seccompiler): each kind of thread may make only the system calls and
/// `ioctl` requests it needs once the guest runs; anything else traps (SECCOMP_RET_TRAP)
/// into a SIGSYS handler that names the call on stderr and ends the process by SIGSYS.
/// `openat` fails with EACCES instead of trapping (glibc's malloc may read
/// /proc/sys/vm/overcommit_memory when it trims a thread's heap; the jail has no /proc).
enum SeccompFilters {
    /// Every thread: memory, locks, time, signals (the vCPU kick, the SIGSYS handler's
    /// own calls), I/O on descriptors it already has, exit.
    static let common = [
        "read", "write", "readv", "writev", "close", "futex", "mmap", "munmap", "mremap", "madvise", "brk",
        "mprotect", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "clock_gettime", "clock_nanosleep",
        "nanosleep", "gettid", "getpid", "tgkill", "exit", "exit_group", "sched_yield", "getrandom",
        "restart_syscall", "rseq", "fstat", "newfstatat", "lseek",
    ]

    /// Serving virtio devices (the device thread; vCPU threads and the console reader
    /// reach device code through MMIO writes and console input): disks, TAP, vsock Unix
    /// sockets, eventfds and the epoll set.
    static let deviceIO = [
        "epoll_ctl", "eventfd2", "pread64", "pwrite64", "preadv", "pwritev", "fdatasync", "fsync",
        "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown", "accept", "accept4", "fcntl", "poll", "ppoll",
    ]

    /// The interrupt ioctls device code makes on the VM fd.
    static let interruptIoctls = [CL_KVM_IRQ_LINE, CL_KVM_IRQFD, CL_KVM_IOEVENTFD, CL_KVM_SET_GSI_ROUTING]

    /// The system calls (beyond ``common``) and ioctl requests of one kind of thread.
    static func allowed(for kind: MachineThreadKind) -> (calls: [String], ioctls: [UInt]) {
        switch kind {
        case .vcpu:
            // KVM_RUN, the register reads of a fault's register dump, and the TAP offloads
            // the network device sets when the driver activates it (an MMIO write).
            return (deviceIO, [CL_KVM_RUN, CL_KVM_GET_REGS, CL_KVM_GET_SREGS, CL_KVM_GET_FPU, CL_KVM_GET_LAPIC,
                               CL_KVM_GET_MSRS, CL_KVM_GET_MP_STATE, CL_TUNSETOFFLOAD] + interruptIoctls)
        case .device:
            // Guest connections to host ports open new Unix sockets.
            return (deviceIO + ["epoll_wait", "epoll_pwait", "socket", "connect"], interruptIoctls)
        case .consoleInput:
            return (deviceIO, interruptIoctls)
        case .main:
            // Waiting (poll on the exit eventfd and signalfd), the terminal's settings
            // restored at exit, the vsock socket's removal (refused by the jail's ids).
            return (["poll", "ppoll", "unlink", "unlinkat"], [UInt(TCGETS), UInt(TCSETS)])
        }
    }

    /// A filter load that failed, named by its libseccomp call.
    struct LoadError: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    /// Builds and loads the filter for `kind` in the calling thread.
    static func load(for kind: MachineThreadKind) throws(LoadError) {
        guard let context = seccomp_init(SCMP_ACT_TRAP) else { throw LoadError(call: "seccomp_init", code: ENOMEM) }
        defer { seccomp_release(context) }
        let (calls, ioctls) = allowed(for: kind)
        for name in common + calls {
            try allow(name, context: context)
        }
        let request = seccomp_syscall_resolve_name("ioctl")
        for value in ioctls {
            var argument = scmp_arg_cmp(arg: 1, op: SCMP_CMP_EQ, datum_a: scmp_datum_t(value), datum_b: 0)
            try check("seccomp_rule_add(ioctl)", seccomp_rule_add_array(context, SCMP_ACT_ALLOW, request, 1, &argument))
        }
        let refused = 0x0005_0000 as UInt32 | UInt32(EACCES)  // SCMP_ACT_ERRNO(EACCES)
        try check("seccomp_rule_add(openat)", seccomp_rule_add_array(context, refused, seccomp_syscall_resolve_name("openat"), 0, nil))
        try check("seccomp_load", seccomp_load(context))
    }

    private static func allow(_ name: String, context: scmp_filter_ctx) throws(LoadError) {
        let number = seccomp_syscall_resolve_name(name)
        guard number != __NR_SCMP_ERROR else { throw LoadError(call: "seccomp_syscall_resolve_name(\(name))", code: EINVAL) }
        try check("seccomp_rule_add(\(name))", seccomp_rule_add_array(context, SCMP_ACT_ALLOW, number, 0, nil))
    }

    private static func check(_ call: String, _ result: Int32) throws(LoadError) {
        if result < 0 { throw LoadError(call: call, code: -result) }
    }

    /// Gives the SIGSYS handler the names of the native system calls and installs it.
    static func installViolationHandler() throws(LoadError) {
        for number in 0..<Int32(CL_VMM_SYSCALL_NAME_COUNT) {
            guard let name = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), number) else { continue }
            cl_vmm_set_syscall_name(number, name)
            free(name)
        }
        if cl_vmm_install_sigsys_handler() != 0 { throw LoadError(call: "sigaction(SIGSYS)", code: errno) }
    }
}
