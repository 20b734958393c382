import Testing
@testable import X86

@Suite struct SetupHeaderTests {
    @Test func parsesAModernBzImage() throws {
        let header = try SetupHeader(image: Fixtures.bzImage())
        #expect(header.version == 0x020F)
        #expect(header.setupSectors == 1)
        #expect(header.protectedModeOffset == 1024)
        #expect(header.commandLineSize == 2048)
        #expect(header.initSize == 0x10000)
        #expect(header.initrdAddressMax == 0x7FFF_FFFF)
        #expect(header.rawBytes.count == 0x202 + 0x66 - 0x1F1)
    }

    @Test func zeroSetupSectorsMeansFour() throws {
        #expect(try SetupHeader(image: Fixtures.bzImage(setupSectors: 0)).setupSectors == 4)
    }

    @Test func rejectsOldProtocolsMissing64BitEntryAndNonKernels() {
        #expect(throws: BootImageError.protocolTooOld(version: 0x020B)) { try SetupHeader(image: Fixtures.bzImage(version: 0x020B)) }
        #expect(throws: BootImageError.not64Bit) { try SetupHeader(image: Fixtures.bzImage(xloadflags: 0)) }
        #expect(throws: BootImageError.notAKernel) { try SetupHeader(image: [UInt8](repeating: 0, count: 4096)) }
        #expect(throws: BootImageError.notAKernel) { try SetupHeader(image: [0x4D, 0x5A]) }
    }
}

@Suite struct BootParamsTests {
    @Test func zeroPageCarriesHeaderCommandLineInitrdRSDPAndE820() throws {
        let header = try SetupHeader(image: Fixtures.bzImage())
        let e820 = E820Map(memorySize: 256 << 20)
        let page = BootParams(header: header, commandLineAddress: 0x20000, initrd: (0x0F00_0000, 0x12345),
                              rsdpAddress: 0xE0000, e820: e820).encoded()
        #expect(page.count == 4096)
        #expect(page.littleEndian(UInt16.self, at: 0x1FE) == 0xAA55)
        #expect(Array(page[0x202..<0x206]) == Array("HdrS".utf8))
        #expect(page.littleEndian(UInt16.self, at: 0x206) == 0x020F)
        #expect(page[0x210] == 0xFF)
        #expect(page.littleEndian(UInt32.self, at: 0x228) == 0x20000)
        #expect(page.littleEndian(UInt32.self, at: 0x218) == 0x0F00_0000)
        #expect(page.littleEndian(UInt32.self, at: 0x21C) == 0x12345)
        #expect(page.littleEndian(UInt64.self, at: 0x70) == 0xE0000)
        #expect(Int(page[0x1E8]) == e820.entries.count)
        #expect(Array(page[0x2D0..<0x2D0 + 20 * e820.entries.count]) == e820.zeroPageBytes)
    }

    @Test func noInitrdLeavesRamdiskFieldsZero() throws {
        let header = try SetupHeader(image: Fixtures.bzImage())
        let page = BootParams(header: header, commandLineAddress: 0x20000, initrd: nil, rsdpAddress: 0,
                              e820: E820Map(memorySize: 64 << 20)).encoded()
        #expect(page.littleEndian(UInt32.self, at: 0x218) == 0)
        #expect(page.littleEndian(UInt32.self, at: 0x21C) == 0)
    }
}

@Suite struct E820MapTests {
    @Test func smallGuestHasLowRAMReservedBIOSAreaAndRAMFromOneMiB() {
        let map = E820Map(memorySize: 256 << 20)
        let expected: [E820Map.Entry] = [
            E820Map.Entry(address: 0, size: 0x9FC00, kind: .ram),
            E820Map.Entry(address: 0x9FC00, size: 0x6_0400, kind: .reserved),
            E820Map.Entry(address: 0x100000, size: 0xFF0_0000, kind: .ram),
        ]
        #expect(map.entries == expected)
    }

    @Test func largeGuestSkipsTheMMIOHoleAndContinuesAbove4GiB() {
        let map = E820Map(memorySize: 4 << 30)
        #expect(map.entries.count == 4)
        #expect(map.entries[2] == E820Map.Entry(address: 0x100000, size: 0xBFF0_0000, kind: .ram))
        #expect(map.entries[3] == E820Map.Entry(address: 0x1_0000_0000, size: 0x4000_0000, kind: .ram))
        let ram: UInt64 = map.entries.filter { $0.kind == .ram }.reduce(0) { $0 + $1.size }
        let expected: UInt64 = 0x1_0000_0000 - 0x100000 + 0x9FC00
        #expect(ram == expected)
    }

    @Test func encodingsHaveTheABIRecordSizes() {
        let map = E820Map(memorySize: 64 << 20)
        #expect(map.zeroPageBytes.count == 20 * map.entries.count)
        #expect(map.pvhMemoryMapBytes.count == 24 * map.entries.count)
        #expect(map.zeroPageBytes.littleEndian(UInt32.self, at: 16) == 1)
        #expect(map.pvhMemoryMapBytes.littleEndian(UInt32.self, at: 24 + 16) == 2)
    }
}

@Suite struct PVHTests {
    @Test func findsThePVHEntryAndLoadSegments() throws {
        let elf = try ELFKernel(image: Fixtures.pvhELF(entry: 0x100040))
        #expect(elf.pvhEntry == 0x100040)
        #expect(elf.segments.count == 1)
        #expect(elf.segments[0].physicalAddress == 0x100000)
        #expect(elf.segments[0].fileSize == 2)
        #expect(elf.segments[0].memorySize == 0x2000)
    }

    @Test func rejectsELFWithoutPVHNote() {
        #expect(throws: BootImageError.self) { try ELFKernel(image: Fixtures.pvhELF(withNote: false)) }
    }

    @Test func rejectsSegmentsOutsideTheFile() {
        var image = Fixtures.pvhELF()
        image.setLittleEndian(UInt64(1 << 40), at: 64 + 32) // p_filesz of the PT_LOAD
        #expect(throws: BootImageError.self) { try ELFKernel(image: image) }
    }

    @Test func startInfoLayout() {
        let info = HVMStartInfo(commandLineAddress: 0x20000, rsdpAddress: 0xE0000, memoryMapAddress: 0x6100,
                                memoryMapEntries: 3, moduleListAddress: 0x6040, initrd: (0x800_0000, 4096))
        let bytes = info.encoded()
        #expect(bytes.count == HVMStartInfo.size)
        #expect(bytes.littleEndian(UInt32.self, at: 0) == 0x336E_C578)
        #expect(bytes.littleEndian(UInt32.self, at: 4) == 1)
        #expect(bytes.littleEndian(UInt32.self, at: 12) == 1)
        #expect(bytes.littleEndian(UInt64.self, at: 16) == 0x6040)
        #expect(bytes.littleEndian(UInt64.self, at: 24) == 0x20000)
        #expect(bytes.littleEndian(UInt64.self, at: 32) == 0xE0000)
        #expect(bytes.littleEndian(UInt64.self, at: 40) == 0x6100)
        #expect(bytes.littleEndian(UInt32.self, at: 48) == 3)
        let modules = info.encodedModuleList()
        #expect(modules.count == 32)
        #expect(modules.littleEndian(UInt64.self, at: 0) == 0x800_0000)
        #expect(modules.littleEndian(UInt64.self, at: 8) == 4096)
    }
}
