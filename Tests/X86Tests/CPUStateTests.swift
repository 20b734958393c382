import Testing
@testable import X86

@Suite struct IdentityPageTablesTests {
    @Test func mapsFourGiBWithTwoMiBPages() {
        let tables = IdentityPageTables(baseAddress: 0x9000, gigabytes: 4)
        let bytes = tables.encoded()
        #expect(bytes.count == 6 * 4096)
        #expect(bytes.littleEndian(UInt64.self, at: 0) == 0xA000 | 3)
        for gib in 0..<4 {
            #expect(bytes.littleEndian(UInt64.self, at: 4096 + gib * 8) == UInt64(0xB000 + gib * 4096) | 3)
        }
        #expect(bytes.littleEndian(UInt64.self, at: 2 * 4096) == 0x83)
        #expect(bytes.littleEndian(UInt64.self, at: 2 * 4096 + 8) == 0x20_0000 | 0x83)
        // The last entry of the fourth directory maps the 2 MiB page just below 4 GiB.
        #expect(bytes.littleEndian(UInt64.self, at: 6 * 4096 - 8) == (0x1_0000_0000 - 0x20_0000) | 0x83)
        #expect(tables.pml4Address == 0x9000)
    }
}

@Suite struct SegmentDescriptorTests {
    @Test func bootGDTEncodesTheClassicDescriptors() {
        #expect(BootGDT.longMode.code.encoded == 0x00AF_9B00_0000_FFFF)
        #expect(BootGDT.longMode.data.encoded == 0x00CF_9300_0000_FFFF)
        #expect(BootGDT.longMode.tss.encoded == 0x008F_8B00_0000_FFFF)
        let gdt = BootGDT.longMode.encoded()
        #expect(gdt.count == 32)
        #expect(gdt.littleEndian(UInt64.self, at: 0) == 0)
        #expect(BootGDT.longMode.limit == 31)
    }

    @Test func unpackedFieldsMatchTheDescriptor() {
        let code = BootGDT.longMode.code
        #expect(code.type == 0xB && code.isPresent && !code.isSystem && code.isLongMode && !code.isDefault32)
        #expect(code.byteLimit == 0xFFFF_FFFF)
        let code32 = BootGDT.protectedMode.code
        #expect(code32.isDefault32 && !code32.isLongMode)
        #expect(BootGDT.protectedMode.tss.isSystem)
        #expect(BootGDT.protectedMode.tss.byteLimit == 0x67)
    }
}

@Suite struct CPUIDNormalizerTests {
    let supported = [
        CPUIDEntry(function: 0, eax: 0x1F),
        CPUIDEntry(function: 1, eax: 0x906A3, ebx: 0xFFFF_FF11, ecx: 0x0000_0001, edx: 0),
        CPUIDEntry(function: 4, index: 0, flags: 1, eax: 0xFC00_4121),
        CPUIDEntry(function: 0xB, index: 0, flags: 1, eax: 9, ebx: 9, ecx: 9, edx: 9),
        CPUIDEntry(function: 0xB, index: 1, flags: 1),
        CPUIDEntry(function: 0xB, index: 2, flags: 1),
        CPUIDEntry(function: 0x8000_0008, ecx: 0xFFFF),
    ]

    @Test func leafOneCarriesAPICIdCountAndHypervisorBit() throws {
        let entries = CPUIDNormalizer(supported: supported, cpuCount: 4).entries(apicID: 3)
        let leaf1 = try #require(entries.first { $0.function == 1 })
        #expect(leaf1.ebx >> 24 == 3)
        #expect((leaf1.ebx >> 16) & 0xFF == 4)
        #expect((leaf1.ebx >> 8) & 0xFF == 8)
        #expect(leaf1.ebx & 0xFF == 0x11)
        #expect(leaf1.ecx & CPUIDNormalizer.hypervisorBit != 0)
        #expect(leaf1.ecx & 1 == 1)
        #expect(leaf1.edx & CPUIDNormalizer.hyperThreadingBit != 0)
        let single = CPUIDNormalizer(supported: supported, cpuCount: 1).entries(apicID: 0)
        #expect(single.first { $0.function == 1 }!.edx & CPUIDNormalizer.hyperThreadingBit == 0)
    }

    @Test func extendedTopologyDescribesOneThreadPerCoreInOnePackage() {
        let entries = CPUIDNormalizer(supported: supported, cpuCount: 3).entries(apicID: 2)
        let topology = entries.filter { $0.function == 0xB }.sorted { $0.index < $1.index }
        #expect(topology.count == 3)
        #expect(topology[0] == CPUIDEntry(function: 0xB, index: 0, flags: 1, eax: 0, ebx: 1, ecx: 0x100, edx: 2))
        #expect(topology[1] == CPUIDEntry(function: 0xB, index: 1, flags: 1, eax: 2, ebx: 3, ecx: 0x201, edx: 2))
        #expect(topology[2] == CPUIDEntry(function: 0xB, index: 2, flags: 1, eax: 0, ebx: 0, ecx: 2, edx: 2))
    }

    @Test func cacheAndAMDCoreCountsFollowTheVCPUCount() throws {
        let entries = CPUIDNormalizer(supported: supported, cpuCount: 2).entries(apicID: 0)
        #expect(try #require(entries.first { $0.function == 4 }).eax >> 26 == 1)
        #expect(try #require(entries.first { $0.function == 4 }).eax & 0x3FFF == 0x0121)
        let amd = try #require(entries.first { $0.function == 0x8000_0008 })
        #expect(amd.ecx & 0xFF == 1)
        #expect((amd.ecx >> 12) & 0xF == 1)
    }

    @Test func addsKVMHypervisorLeavesWhenMissing() throws {
        let entries = CPUIDNormalizer(supported: supported, cpuCount: 1).entries(apicID: 0)
        let base = try #require(entries.first { $0.function == 0x4000_0000 })
        #expect(base.eax == 0x4000_0001)
        var signature: [UInt8] = []
        for word in [base.ebx, base.ecx, base.edx] { signature.appendLittleEndian(word) }
        #expect(Array(signature.prefix(9)) == Array("KVMKVMKVM".utf8))
        #expect(entries.contains { $0.function == 0x4000_0001 })
    }

    @Test func keepsKVMFeatureLeafFromTheHost() {
        let host = supported + [CPUIDEntry(function: 0x4000_0000, eax: 0x4000_0001),
                                CPUIDEntry(function: 0x4000_0001, eax: 0x0100_07FB)]
        let entries = CPUIDNormalizer(supported: host, cpuCount: 1).entries(apicID: 0)
        #expect(entries.filter { $0.function == 0x4000_0000 }.count == 1)
        #expect(entries.first { $0.function == 0x4000_0001 }?.eax == 0x0100_07FB)
    }
}

@Suite struct BootMSRAndLAPICTests {
    @Test func bootMSRsEnableMTRRsWriteBackAndFastStrings() {
        let values = Dictionary(uniqueKeysWithValues: BootMSRs.entries.map { ($0.index, $0.value) })
        #expect(values[0x2FF] == 0x806)
        #expect(values[0x1A0] == 1)
        #expect(values[0x10] == 0)
        #expect(values[0xC000_0082] == 0)
        #expect(values.count == BootMSRs.entries.count)
    }

    @Test func virtualWireSetsLINT0ExtINTAndLINT1NMIKeepingOtherBits() {
        var page = [UInt8](repeating: 0, count: 1024)
        page.setLittleEndian(UInt32(0x0001_0700), at: 0x350)
        page.setLittleEndian(UInt32(0x0001_0000), at: 0x360)
        LocalAPICRegisters.configureVirtualWire(&page)
        #expect(page.littleEndian(UInt32.self, at: 0x350) == 0x0001_0700)
        #expect(page.littleEndian(UInt32.self, at: 0x360) == 0x0001_0400)
    }
}
