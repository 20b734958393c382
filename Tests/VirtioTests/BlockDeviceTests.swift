#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Virtio

/// virtio-blk requests (virtio 1.2 §5.2.6) against a temporary raw image.
@Suite struct BlockDeviceTests {
    /// A 64 KiB image whose sector n is filled with byte n.
    static func makeImage() -> String {
        var template = Array("/tmp/swiftlet-blk-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        for sector in 0..<128 {
            var bytes = [UInt8](repeating: UInt8(sector), count: 512)
            _ = write(fd, &bytes, 512)
        }
        close(fd)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    struct Rig {
        let ram = FakeRAM()
        var driver: FakeDriver
        var queue: SplitQueue
        let device: BlockDevice

        init(path: String, readOnly: Bool = false) throws {
            driver = FakeDriver(ram: ram)
            queue = try driver.queue()
            device = try BlockDevice(path: path, readOnly: readOnly, identifier: "disk-0")
        }

        /// Sends one request; returns (status, used length).
        mutating func request(type: UInt32, sector: UInt64, data: [(UInt64, UInt32)] = [], dataIsWritable: Bool = true,
                              statusAt: UInt64 = 0x30000) throws -> (UInt8, UInt32) {
            ram.put(type, at: 0x10000)
            ram.put(UInt32(0), at: 0x10004)
            ram.put(sector, at: 0x10008)
            ram.put(UInt8(0xEE), at: statusAt)
            let head = dataIsWritable
                ? driver.add(readable: [(0x10000, 16)], writable: data + [(statusAt, 1)])
                : driver.add(readable: [(0x10000, 16)] + data, writable: [(statusAt, 1)])
            _ = try device.process(queue: &queue, index: 0, memory: ram)
            let element = driver.usedElement(driver.usedIndex &- 1)
            #expect(element.id == UInt32(head))
            return (ram.get(UInt8.self, at: statusAt), element.length)
        }
    }

    @Test func configurationHasCapacityAndSegmentMax() throws {
        let path = Self.makeImage()
        defer { unlink(path) }
        let device = try BlockDevice(path: path, readOnly: false)
        #expect(device.configuration.count == 16)
        #expect(device.configuration[0] == 128 && device.configuration[1] == 0)
        #expect(device.configuration[12] == 254)
        #expect(device.features & BlockDevice.featureReadOnly == 0)
        #expect(device.features & BlockDevice.featureFlush != 0)
    }

    @Test func readWriteFlushAndGetID() throws {
        let path = Self.makeImage()
        defer { unlink(path) }
        var rig = try Rig(path: path)
        var result = try rig.request(type: 0, sector: 3, data: [(0x20000, 512), (0x21000, 512)])
        #expect(result == (0, 1025))
        #expect(rig.ram.get(count: 512, at: 0x20000) == [UInt8](repeating: 3, count: 512))
        #expect(rig.ram.get(count: 512, at: 0x21000) == [UInt8](repeating: 4, count: 512))

        rig.ram.put(bytes: [UInt8](repeating: 0xAB, count: 1024), at: 0x22000)
        result = try rig.request(type: 1, sector: 10, data: [(0x22000, 1024)], dataIsWritable: false)
        #expect(result == (0, 1))
        result = try rig.request(type: 0, sector: 11, data: [(0x23000, 512)])
        #expect(rig.ram.get(count: 512, at: 0x23000) == [UInt8](repeating: 0xAB, count: 512))

        #expect(try rig.request(type: 4, sector: 0) == (0, 1))
        result = try rig.request(type: 8, sector: 0, data: [(0x24000, 20)])
        #expect(result == (0, 8))
        #expect(rig.ram.get(count: 7, at: 0x24000) == Array("disk-0\0".utf8))
    }

    @Test func outOfRangeUnalignedAndUnknownRequestsFail() throws {
        let path = Self.makeImage()
        defer { unlink(path) }
        var rig = try Rig(path: path)
        #expect(try rig.request(type: 0, sector: 127, data: [(0x20000, 1024)]).0 == 1)
        #expect(try rig.request(type: 0, sector: UInt64.max / 256, data: [(0x20000, 512)]).0 == 1)
        #expect(try rig.request(type: 0, sector: 0, data: [(0x20000, 100)]).0 == 1)
        #expect(try rig.request(type: 99, sector: 0).0 == 2)
    }

    @Test func readOnlyDiskRefusesWrites() throws {
        let path = Self.makeImage()
        defer { unlink(path) }
        var rig = try Rig(path: path, readOnly: true)
        #expect(rig.device.features & BlockDevice.featureReadOnly != 0)
        #expect(try rig.request(type: 1, sector: 0, data: [(0x22000, 512)], dataIsWritable: false).0 == 1)
        #expect(try rig.request(type: 0, sector: 0, data: [(0x20000, 512)]).0 == 0)
        #expect(rig.ram.get(count: 512, at: 0x20000) == [UInt8](repeating: 0, count: 512))
    }

    @Test func requestWithoutStatusByteIsARingViolation() throws {
        let path = Self.makeImage()
        defer { unlink(path) }
        var rig = try Rig(path: path)
        rig.driver.add(readable: [(0x10000, 16)], writable: [])
        #expect(throws: VirtioError.malformedRequest("virtio-blk request without a status byte")) {
            try rig.device.process(queue: &rig.queue, index: 0, memory: rig.ram)
        }
    }

    @Test func missingImageIsAConfigurationError() {
        #expect(throws: VirtioError.self) { try BlockDevice(path: "/nonexistent/disk.img", readOnly: false) }
    }
}
