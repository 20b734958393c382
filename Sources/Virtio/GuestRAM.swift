/// The device side's view of guest RAM (virtio 1.2 §2.7: every ring and buffer
/// address is a guest-physical address). Implemented by the machine's guest memory
/// and, in tests, by fake memory; returns nil for any range that is not entirely RAM,
/// so nothing a guest writes into a descriptor reaches host memory outside it.
public protocol GuestRAM: AnyObject, Sendable {
    /// Host bytes backing `[address, address + length)`, or nil.
    func hostBytes(at address: UInt64, length: UInt64) -> UnsafeMutableRawBufferPointer?
}

extension GuestRAM {
    func bytes(at address: UInt64, length: UInt64) throws(VirtioError) -> UnsafeMutableRawBufferPointer {
        guard let bytes = hostBytes(at: address, length: length) else {
            throw .outsideGuestMemory(address: address, length: length)
        }
        return bytes
    }

    func load<T: FixedWidthInteger>(_ type: T.Type, at address: UInt64) throws(VirtioError) -> T {
        T(littleEndian: try bytes(at: address, length: UInt64(MemoryLayout<T>.size)).loadUnaligned(as: T.self))
    }

    func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) throws(VirtioError) {
        try bytes(at: address, length: UInt64(MemoryLayout<T>.size)).storeBytes(of: value.littleEndian, as: T.self)
    }
}
