@testable import X86

/// Synthetic kernel images for loader tests.
enum Fixtures {
    /// A bzImage with one setup sector and `payload` bytes of protected-mode kernel.
    static func bzImage(version: UInt16 = 0x020F, xloadflags: UInt16 = 1, setupSectors: UInt8 = 1,
                        payload: Int = 4096, initSize: UInt32 = 0x10000) -> [UInt8] {
        let payloadOffset = (setupSectors == 0 ? 5 : Int(setupSectors) + 1) * 512
        var image = [UInt8](repeating: 0, count: payloadOffset + payload)
        image[0x1F1] = setupSectors
        image.setLittleEndian(UInt16(0xAA55), at: 0x1FE)
        image[0x200] = 0xEB
        image[0x201] = 0x66
        image.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        image.setLittleEndian(version, at: 0x206)
        image[0x211] = 1
        image.setLittleEndian(UInt32(0x7FFF_FFFF), at: 0x22C)
        image.setLittleEndian(xloadflags, at: 0x236)
        image.setLittleEndian(UInt32(2048), at: 0x238)
        image.setLittleEndian(initSize, at: 0x260)
        for i in 0..<payload { image[payloadOffset + i] = UInt8(truncatingIfNeeded: i) }
        return image
    }

    /// An ELF64 x86-64 image with one PT_LOAD (`code` at `loadAddress`) and, unless
    /// `withNote` is false, a PT_NOTE holding a Xen PHYS32_ENTRY note for `entry`.
    static func pvhELF(loadAddress: UInt64 = 0x100000, code: [UInt8] = [0xF4, 0xF4], memorySize: UInt64 = 0x2000,
                       entry: UInt32 = 0x100000, withNote: Bool = true) -> [UInt8] {
        var note: [UInt8] = []
        note.appendLittleEndian(UInt32(4))
        note.appendLittleEndian(UInt32(4))
        note.appendLittleEndian(UInt32(18))
        note += Array("Xen".utf8) + [0]
        note.appendLittleEndian(entry)
        let phnum = withNote ? 2 : 1
        let headersEnd = 64 + 56 * phnum
        let codeOffset = headersEnd
        let noteOffset = codeOffset + code.count
        var elf = [UInt8](repeating: 0, count: 64)
        elf.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])
        elf[4] = 2; elf[5] = 1; elf[6] = 1
        elf.setLittleEndian(UInt16(2), at: 16)
        elf.setLittleEndian(UInt16(62), at: 18)
        elf.setLittleEndian(UInt32(1), at: 20)
        elf.setLittleEndian(UInt64(64), at: 32)
        elf.setLittleEndian(UInt16(64), at: 52)
        elf.setLittleEndian(UInt16(56), at: 54)
        elf.setLittleEndian(UInt16(phnum), at: 56)
        func programHeader(type: UInt32, offset: Int, address: UInt64, fileSize: Int, memorySize: UInt64) -> [UInt8] {
            var ph: [UInt8] = []
            ph.appendLittleEndian(type)
            ph.appendLittleEndian(UInt32(7))
            ph.appendLittleEndian(UInt64(offset))
            ph.appendLittleEndian(address)
            ph.appendLittleEndian(address)
            ph.appendLittleEndian(UInt64(fileSize))
            ph.appendLittleEndian(memorySize)
            ph.appendLittleEndian(UInt64(4))
            return ph
        }
        elf += programHeader(type: 1, offset: codeOffset, address: loadAddress, fileSize: code.count, memorySize: memorySize)
        if withNote {
            elf += programHeader(type: 4, offset: noteOffset, address: 0, fileSize: note.count, memorySize: UInt64(note.count))
        }
        elf += code
        if withNote { elf += note }
        return elf
    }
}
