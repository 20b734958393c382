#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import KVM

/// virtio-blk over a raw image file (virtio 1.2 §5.2): read, write, flush and get-id
/// requests on one request queue, `VIRTIO_BLK_F_SEG_MAX`, `VIRTIO_BLK_F_FLUSH` and,
/// for read-only disks, `VIRTIO_BLK_F_RO` (writes then also fail with IOERR). A
/// host I/O error or an out-of-range request answers `VIRTIO_BLK_S_IOERR`; only a
/// request without a status byte is a ring violation.
public final class BlockDevice: VirtioDevice {
    public static let sectorSize: UInt64 = 512
    public static let queueSize: UInt16 = 256
    static let featureSegmentMax: UInt64 = 1 << 2
    static let featureReadOnly: UInt64 = 1 << 5
    static let featureFlush: UInt64 = 1 << 9
    static let idLength = 20

    enum RequestType: UInt32 { case read = 0, write = 1, flush = 4, getID = 8 }
    enum RequestStatus: UInt8 { case ok = 0, ioError = 1, unsupported = 2 }

    public let path: String
    public let readOnly: Bool
    /// Capacity in 512-byte sectors (the file size rounded down).
    public let sectors: UInt64
    public let identifier: [UInt8]
    let fd: Int32

    public let deviceType = VirtioDeviceType.block
    public var queueSizes: [UInt16] { [Self.queueSize] }
    public var features: UInt64 {
        Self.featureSegmentMax | Self.featureFlush | (readOnly ? Self.featureReadOnly : 0)
    }

    /// Opens `path` (read-write unless `readOnly`); `identifier` is what GET_ID returns
    /// (at most 20 bytes, default: the file name).
    public init(path: String, readOnly: Bool, identifier: String? = nil) throws(VirtioError) {
        let fd: Int32
        do {
            fd = try Syscall.call("open(\(path))") { open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC) }
        } catch {
            throw .configuration("disk \(path): \(error)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw .configuration("disk \(path): not a regular file")
        }
        self.fd = fd
        self.path = path
        self.readOnly = readOnly
        sectors = UInt64(info.st_size) / Self.sectorSize
        let name = identifier ?? String(path.split(separator: "/").last ?? "")
        self.identifier = Array(name.utf8.prefix(Self.idLength))
    }

    deinit { close(fd) }

    /// §5.2.4: capacity (le64), size_max (0: no limit), seg_max.
    public var configuration: [UInt8] {
        var bytes: [UInt8] = []
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: sectors >> (8 * UInt64(i)))) }
        bytes += [0, 0, 0, 0]
        let segmentMax = UInt32(Self.queueSize - 2)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: segmentMax >> (8 * UInt32(i)))) }
        return bytes
    }

    public func process(queue: inout SplitQueue, index: Int, memory: any GuestRAM) throws(VirtioError) -> Bool {
        var used = false
        while let chain = try queue.next(memory: memory) {
            let written = try handle(chain, memory: memory)
            try queue.addUsed(head: chain.head, length: written, memory: memory)
            used = true
        }
        return used
    }

    /// Executes one request; returns the bytes written into the chain (data + status).
    func handle(_ chain: DescriptorChain, memory: any GuestRAM) throws(VirtioError) -> UInt32 {
        let writable = chain.writableLength
        guard writable >= 1 else { throw .malformedRequest("virtio-blk request without a status byte") }
        let dataIn = writable - 1
        let header = try chain.readBytes(offset: 0, count: 16, memory: memory)
        var status = RequestStatus.ioError
        var written: UInt64 = 0
        if header.count == 16 {
            let type = UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24
            let sector = header[8..<16].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            switch RequestType(rawValue: type) {
            case .read?:
                status = transfer(chain.writable, offset: 0, length: dataIn, sector: sector, write: false, memory: memory)
                written = status == .ok ? dataIn : 0
            case .write?:
                status = readOnly ? .ioError
                    : transfer(chain.readable, offset: 16, length: chain.readableLength - 16, sector: sector, write: true, memory: memory)
            case .flush?:
                status = readOnly || fdatasync(fd) == 0 ? .ok : .ioError
            case .getID?:
                written = UInt64(try chain.writeBytes(Array(identifier.prefix(Int(min(dataIn, UInt64(Self.idLength))))),
                                                      offset: 0, memory: memory))
                if dataIn > written, written < UInt64(Self.idLength) {
                    written += UInt64(try chain.writeBytes([0], offset: written, memory: memory))
                }
                status = .ok
            case nil:
                status = .unsupported
            }
        }
        try chain.writeBytes([status.rawValue], offset: dataIn, memory: memory)
        return UInt32(truncatingIfNeeded: written + 1)
    }

    /// Moves `length` bytes between the file at `sector` and the chain's buffers.
    private func transfer(_ segments: [BufferSegment], offset: UInt64, length: UInt64, sector: UInt64, write: Bool,
                          memory: any GuestRAM) -> RequestStatus {
        let (start, overflow) = sector.multipliedReportingOverflow(by: Self.sectorSize)
        guard !overflow, length % Self.sectorSize == 0, sector <= sectors,
              length / Self.sectorSize <= sectors - sector else { return .ioError }
        var position = start
        do throws(VirtioError) {
            try DescriptorChain.forEach(in: segments, offset: offset, length: length, memory: memory) { buffer throws(VirtioError) in
                try fileIO(buffer, at: position, write: write)
                position += UInt64(buffer.count)
            }
        } catch {
            return .ioError
        }
        return .ok
    }

    private func fileIO(_ buffer: UnsafeMutableRawBufferPointer, at position: UInt64, write: Bool) throws(VirtioError) {
        var done = 0
        while done < buffer.count {
            let chunk = min(buffer.count - done, 1 << 30)
            let base = buffer.baseAddress! + done
            let at = off_t(position) + off_t(done)
            let n: Int32
            do {
                n = try Syscall.call(write ? "pwrite(\(path))" : "pread(\(path))") {
                    Int32(truncatingIfNeeded: write ? pwrite(fd, base, chunk, at) : pread(fd, base, chunk, at))
                }
            } catch {
                throw .system(call: error.call, errno: error.code)
            }
            guard n > 0 else { throw .system(call: "pread(\(path))", errno: EIO) }
            done += Int(n)
        }
    }
}
