#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLinux

/// The KVM subsystem as seen through `/dev/kvm`: API version, capability queries,
/// the CPUID features KVM can virtualise, and VM creation
/// (Documentation/virt/kvm/api.rst, section 4 "system ioctls").
public final class KVMSystem: Sendable {
    /// The only stable KVM API version (api.rst 4.1).
    public static let requiredAPIVersion: Int32 = 12

    public let fd: Int32
    /// Size of the per-vCPU `kvm_run` mapping.
    public let vcpuMmapSize: Int

    /// Opens the device and checks the API version.
    public init(devicePath: String = "/dev/kvm") throws(KVMError) {
        let fd = try Syscall.call("open(\(devicePath))") { open(devicePath, O_RDWR | O_CLOEXEC) }
        do throws(KVMError) {
            let version = try Syscall.ioctl(fd, CL_KVM_GET_API_VERSION, "KVM_GET_API_VERSION", value: 0)
            guard version == Self.requiredAPIVersion else {
                throw KVMError(call: "ioctl(KVM_GET_API_VERSION)", code: 0,
                               detail: "KVM API version \(version), need \(Self.requiredAPIVersion)")
            }
            let size = try Syscall.ioctl(fd, CL_KVM_GET_VCPU_MMAP_SIZE, "KVM_GET_VCPU_MMAP_SIZE", value: 0)
            guard Int(size) >= MemoryLayout<kvm_run>.size else {
                throw KVMError(call: "ioctl(KVM_GET_VCPU_MMAP_SIZE)", code: 0, detail: "kvm_run mapping of \(size) bytes is too small")
            }
            self.fd = fd
            self.vcpuMmapSize = Int(size)
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// `KVM_CHECK_EXTENSION`: 0 when unsupported, else a capability-specific value.
    public func checkExtension(_ capability: Int32) throws(KVMError) -> Int32 {
        try Syscall.ioctl(fd, CL_KVM_CHECK_EXTENSION, "KVM_CHECK_EXTENSION(\(capability))", value: UInt(capability))
    }

    /// `KVM_GET_SUPPORTED_CPUID`: every leaf/subleaf KVM can present to a guest.
    public func supportedCPUID() throws(KVMError) -> [kvm_cpuid_entry2] {
        var capacity = 128
        while true {
            let buffer = CPUIDBuffer(capacity: capacity)
            do {
                try Syscall.ioctl(fd, CL_KVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID", buffer.raw)
                return buffer.entries
            } catch where error.code == E2BIG && capacity < 4096 {
                capacity *= 2
            }
        }
    }

    /// `KVM_CREATE_VM` with the default machine type.
    public func createVirtualMachine() throws(KVMError) -> VirtualMachine {
        let vmfd = try Syscall.ioctl(fd, CL_KVM_CREATE_VM, "KVM_CREATE_VM", value: 0)
        return VirtualMachine(fd: vmfd, system: self)
    }
}

/// A heap buffer laid out as `struct kvm_cpuid2` followed by its entries.
final class CPUIDBuffer {
    let raw: UnsafeMutableRawPointer
    let capacity: Int
    private static let headerSize = MemoryLayout<kvm_cpuid2>.size
    private static let entrySize = MemoryLayout<kvm_cpuid_entry2>.stride

    init(capacity: Int) {
        self.capacity = capacity
        let size = Self.headerSize + capacity * Self.entrySize
        raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        raw.assumingMemoryBound(to: kvm_cpuid2.self).pointee.nent = UInt32(capacity)
    }

    convenience init(entries: [kvm_cpuid_entry2]) {
        self.init(capacity: entries.count)
        for (i, entry) in entries.enumerated() {
            (raw + Self.headerSize + i * Self.entrySize).storeBytes(of: entry, as: kvm_cpuid_entry2.self)
        }
    }

    var entries: [kvm_cpuid_entry2] {
        let count = min(Int(raw.assumingMemoryBound(to: kvm_cpuid2.self).pointee.nent), capacity)
        return (0..<count).map { (raw + Self.headerSize + $0 * Self.entrySize).load(as: kvm_cpuid_entry2.self) }
    }

    deinit { raw.deallocate() }
}
