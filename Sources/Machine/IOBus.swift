/// A device on the port-I/O or MMIO bus: reads and writes at an offset into the
/// range it was registered for. Devices are shared between vCPU threads, so each one
/// keeps its state behind a lock.
public protocol BusDevice: AnyObject, Sendable {
    /// Fill `data` (1, 2, 4 or 8 bytes) with the value at `offset`.
    func read(offset: UInt64, data: UnsafeMutableRawBufferPointer)
    /// Handle a guest write of `data` at `offset`.
    func write(offset: UInt64, data: UnsafeRawBufferPointer)
}

/// Dispatches VM exits for one address space (I/O ports or guest-physical MMIO) to
/// the device registered for the accessed range. The range table is fixed when the
/// machine is built, before any vCPU runs.
public final class IOBus: Sendable {
    /// One registered range.
    public struct Mapping: Sendable {
        public let base: UInt64
        public let length: UInt64
        public let device: any BusDevice

        public init(base: UInt64, length: UInt64, device: any BusDevice) {
            self.base = base
            self.length = length
            self.device = device
        }
    }

    private let mappings: [Mapping]

    /// Fails (returns nil) when two ranges overlap or a range is empty.
    public init?(_ mappings: [Mapping]) {
        let sorted = mappings.sorted { $0.base < $1.base }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.base + a.length > b.base {
            return nil
        }
        guard sorted.allSatisfy({ $0.length > 0 }) else { return nil }
        self.mappings = sorted
    }

    private func mapping(for address: UInt64, length: Int) -> Mapping? {
        var low = 0
        var high = mappings.count
        while low < high {
            let mid = (low + high) / 2
            if mappings[mid].base + mappings[mid].length <= address { low = mid + 1 } else { high = mid }
        }
        guard low < mappings.count else { return nil }
        let m = mappings[low]
        guard address >= m.base, address - m.base + UInt64(length) <= m.length else { return nil }
        return m
    }

    /// A guest read. Unclaimed addresses read as all ones, like an empty ISA bus.
    public func read(address: UInt64, data: UnsafeMutableRawBufferPointer) {
        if let m = mapping(for: address, length: data.count) {
            m.device.read(offset: address - m.base, data: data)
        } else {
            data.initializeMemory(as: UInt8.self, repeating: 0xFF)
        }
    }

    /// A guest write. Writes to unclaimed addresses are dropped.
    public func write(address: UInt64, data: UnsafeRawBufferPointer) {
        if let m = mapping(for: address, length: data.count) {
            m.device.write(offset: address - m.base, data: data)
        }
    }
}
