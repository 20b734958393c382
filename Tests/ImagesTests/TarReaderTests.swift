import HostSystem
import Foundation
import Testing
@testable import Images

/// Tar streams the layer fuzz target (Fuzz/TarUnpack) turned up: sizes and pax record
/// lengths near the integer limits are errors, not arithmetic traps.
@Suite struct TarReaderTests {
    /// A tar stream held in memory.
    final class BytesSource: ByteSource {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let count = min(buffer.count, bytes.count - position)
            bytes[position..<(position + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
            position += count
            return count
        }
        func finish() throws {}
    }

    /// One 512-byte ustar header with a valid checksum; `size` is the raw 12-byte field.
    static func header(_ name: String, type: Character, size: [UInt8]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        block.replaceSubrange(0..<name.utf8.count, with: name.utf8)
        block.replaceSubrange(100..<108, with: Array("0000755\0".utf8))
        block.replaceSubrange(124..<136, with: size)
        block[156] = UInt8(ascii: type.unicodeScalars.first!)
        block.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        block.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let sum = block.reduce(0) { $0 + Int($1) }
        block.replaceSubrange(148..<156, with: Array(String(format: "%06o\0 ", sum).utf8))
        return block
    }

    static func octal(_ value: Int) -> [UInt8] { Array(String(format: "%011o\0", value).utf8) }

    /// The Docker CLI's build context with `-f` outside it ends right after the appended
    /// Dockerfile's bytes (no padding, no end blocks); dockerd reads it, and so do we. A
    /// file cut short is still an error.
    @Test func anArchiveEndingRightAfterTheLastFilesBytesIsComplete() throws {
        let size = Array("00000000005\0".utf8)
        let whole = Self.header("Dockerfile", type: "0", size: size) + Array("FROM\n".utf8)
        let reader = TarReader(BytesSource(whole), what: "context")
        #expect(try reader.next()?.path == "Dockerfile")
        #expect(try reader.next() == nil)
        let cut = TarReader(BytesSource(Array(whole.dropLast(2))), what: "context")
        _ = try cut.next()
        #expect(throws: SwiftletError.self) { try cut.next() }
    }

    @Test func sizeNearInt64MaxIsATruncatedArchive() throws {
        // Base-256 size 0x7FFF_FFFF_FFFF_FEFF: the entry plus its padding passes Int64.max.
        let size: [UInt8] = [0x80, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0xFF]
        let reader = TarReader(BytesSource(Self.header("d/", type: "5", size: size)), what: "layer")
        let entry = try #require(try reader.next())
        #expect(entry.size == 0x7FFF_FFFF_FFFF_FEFF)
        #expect {
            _ = try reader.next()
        } throws: { error in
            (error as? SwiftletError)?.message.contains("unexpected end of tar archive") == true
        }
    }

    @Test func paxRecordLengthNearIntMaxIsMalformed() throws {
        let records = Array("9 a=bcd\n\(Int.max) path=x\n".utf8)
        let padded = records + [UInt8](repeating: 0, count: 512 - records.count)
        let stream = Self.header("pax", type: "x", size: Self.octal(records.count)) + padded
            + Self.header("file", type: "0", size: Self.octal(0)) + [UInt8](repeating: 0, count: 1024)
        let reader = TarReader(BytesSource(stream), what: "layer")
        #expect {
            _ = try reader.next()
        } throws: { error in
            (error as? SwiftletError)?.message.contains("malformed pax extended header") == true
        }
    }
}
