#if canImport(Glibc)
import Glibc
#endif
import Virtio

/// Guest RAM for the virtio fuzz targets: `size` zeroed bytes at guest-physical address 0,
/// refilled from each fuzz input. Ranges outside it are not RAM (the device must refuse them).
public final class FuzzGuestRAM: GuestRAM, @unchecked Sendable {
    public let base: UnsafeMutableRawBufferPointer

    public init(size: Int) {
        base = .allocate(byteCount: size, alignment: 4096)
        base.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { base.deallocate() }

    /// Zeroes the RAM and copies `bytes` (at most the RAM's size) to address 0.
    public func load<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        base.initializeMemory(as: UInt8.self, repeating: 0)
        base.copyBytes(from: bytes.prefix(base.count))
    }

    public func hostBytes(at address: UInt64, length: UInt64) -> UnsafeMutableRawBufferPointer? {
        let (end, overflow) = address.addingReportingOverflow(length)
        guard !overflow, end <= UInt64(base.count) else { return nil }
        return UnsafeMutableRawBufferPointer(rebasing: base[Int(address)..<Int(end)])
    }
}

/// One instance of every virtio device type, each with host resources that cannot harm the
/// host: a 64 KiB temporary disk, a TAP device (when this process may create one), a vsock
/// listener in a temporary directory, a console whose output is dropped.
public enum FuzzDevices {
    public static let all: [any VirtioDevice] = {
        var devices: [any VirtioDevice] = [EntropyDevice(), ConsoleDevice(output: { _ in })]
        let directory = "\(temporaryDirectory)/swiftlet-fuzz-\(getpid())"
        mkdir(directory, 0o700)
        let disk = directory + "/disk"
        let fd = open(disk, O_CREAT | O_RDWR | O_TRUNC, 0o600)
        if fd >= 0 { ftruncate(fd, 64 << 10); close(fd) }
        if let block = try? BlockDevice(path: disk, readOnly: false) { devices.append(block) }
        if let vsock = try? VsockDevice(guestCID: 3, udsPath: directory + "/vsock") { devices.append(vsock) }
        if let network = try? NetworkDevice(tapName: "swfuzz\(getpid() % 100_000)", mac: [2, 0, 0, 0, 0, 1]) {
            devices.append(network)
        }
        return devices
    }()
}

/// `$TMPDIR` (scripts/fuzz points it at a directory it removes afterwards), else /tmp.
public var temporaryDirectory: String {
    getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
}
