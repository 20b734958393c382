#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import X86

/// A guest address range that is not (entirely) guest RAM.
public struct GuestMemoryError: Error, Equatable, CustomStringConvertible {
    public let address: UInt64
    public let length: UInt64

    public var description: String {
        "guest-physical range 0x\(String(address, radix: 16)) + \(length) bytes is not guest RAM"
    }
}

/// The guest's RAM: one anonymous `MAP_NORESERVE` host mapping presented to the guest
/// as up to two guest-physical regions (below the 32-bit MMIO hole and above 4 GiB,
/// per ``BootLayout/ramRanges(memorySize:)``).
///
/// Every access takes a guest-physical address and length and checks that the whole
/// range lies inside one region, with overflow-safe arithmetic: nothing a guest writes
/// into a boot structure, descriptor or register can make the VMM touch host memory
/// outside the mapping. The guest itself reads and writes this memory concurrently, so
/// there is no lock to take; the type is `@unchecked Sendable` for that reason.
public final class GuestMemory: @unchecked Sendable {
    /// One guest-physical region and where it starts in the host mapping.
    public struct Region: Equatable, Sendable {
        public let guestAddress: UInt64
        public let size: UInt64
        public let hostOffset: UInt64
    }

    public let size: UInt64
    public let regions: [Region]
    let host: UnsafeMutableRawPointer

    /// Maps `size` bytes of RAM (not yet backed by host pages).
    public init(size: UInt64) throws(GuestMemoryError) {
        guard size > 0, let length = Int(exactly: size),
              let mapping = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              mapping != MAP_FAILED else {
            throw GuestMemoryError(address: 0, length: size)
        }
        self.size = size
        self.host = mapping
        var offset: UInt64 = 0
        var regions: [Region] = []
        for range in BootLayout.ramRanges(memorySize: size) {
            regions.append(Region(guestAddress: range.start, size: range.size, hostOffset: offset))
            offset += range.size
        }
        self.regions = regions
    }

    deinit { munmap(host, Int(size)) }

    /// The host address of a region's first byte (for `KVM_SET_USER_MEMORY_REGION`).
    public func hostAddress(of region: Region) -> UnsafeMutableRawPointer {
        host + Int(region.hostOffset)
    }

    /// Host memory for `[address, address + length)`, which must lie inside one region.
    public func buffer(at address: UInt64, length: UInt64) throws(GuestMemoryError) -> UnsafeMutableRawBufferPointer {
        let (end, overflow) = address.addingReportingOverflow(length)
        guard !overflow else { throw GuestMemoryError(address: address, length: length) }
        for region in regions where address >= region.guestAddress && end <= region.guestAddress + region.size {
            let start = host + Int(region.hostOffset + (address - region.guestAddress))
            return UnsafeMutableRawBufferPointer(start: start, count: Int(length))
        }
        throw GuestMemoryError(address: address, length: length)
    }

    /// Whether `[address, address + length)` is guest RAM.
    public func contains(_ address: UInt64, length: UInt64) -> Bool {
        (try? buffer(at: address, length: length)) != nil
    }

    public func write(_ bytes: [UInt8], at address: UInt64) throws(GuestMemoryError) {
        let target = try buffer(at: address, length: UInt64(bytes.count))
        bytes.withUnsafeBytes { target.copyMemory(from: $0) }
    }

    public func write<C: Collection>(contentsOf bytes: C, at address: UInt64) throws(GuestMemoryError) where C.Element == UInt8 {
        let target = try buffer(at: address, length: UInt64(bytes.count))
        target.copyBytes(from: bytes)
    }

    public func fill(_ value: UInt8, at address: UInt64, length: UInt64) throws(GuestMemoryError) {
        let target = try buffer(at: address, length: length)
        target.initializeMemory(as: UInt8.self, repeating: value)
    }

    public func read(at address: UInt64, count: Int) throws(GuestMemoryError) -> [UInt8] {
        guard count >= 0 else { throw GuestMemoryError(address: address, length: 0) }
        let source = try buffer(at: address, length: UInt64(count))
        return Array(UnsafeRawBufferPointer(source))
    }

    public func read<T: FixedWidthInteger & UnsignedInteger>(_ type: T.Type, at address: UInt64) throws(GuestMemoryError) -> T {
        let source = try buffer(at: address, length: UInt64(MemoryLayout<T>.size))
        return T(littleEndian: source.loadUnaligned(as: T.self))
    }

    public func write<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at address: UInt64) throws(GuestMemoryError) {
        let target = try buffer(at: address, length: UInt64(MemoryLayout<T>.size))
        target.storeBytes(of: value.littleEndian, as: T.self)
    }
}
