import Testing
@testable import X86

@Suite struct ACPITablesTests {
    let base: UInt64 = 0xE0000
    var blob: [UInt8] { ACPITables(baseAddress: base, cpuCount: 3, devices: [.virtioMMIO(index: 0, base: 0xD000_0000, length: 0x1000, gsi: 5)]).encoded() }

    /// The table at guest-physical `address` inside the blob.
    func table(at address: UInt64, in blob: [UInt8]) -> [UInt8] {
        let offset = Int(address - base)
        let length = Int(blob.littleEndian(UInt32.self, at: offset + 4) ?? 0)
        return Array(blob[offset..<offset + length])
    }

    func sum(_ bytes: [UInt8]) -> UInt8 { bytes.reduce(0, &+) }

    @Test func rsdpIsVersion2WithBothChecksumsAndPointsAtTheXSDT() throws {
        let blob = self.blob
        let rsdp = Array(blob[0..<36])
        #expect(Array(rsdp[0..<8]) == Array("RSD PTR ".utf8))
        #expect(rsdp[15] == 2)
        #expect(sum(Array(rsdp[0..<20])) == 0)
        #expect(sum(rsdp) == 0)
        #expect(rsdp.littleEndian(UInt32.self, at: 20) == 36)
        let xsdt = table(at: try #require(rsdp.littleEndian(UInt64.self, at: 24)), in: blob)
        #expect(Array(xsdt[0..<4]) == Array("XSDT".utf8))
        #expect(sum(xsdt) == 0)
        #expect(xsdt.count == 36 + 16)
    }

    @Test func everyTableChecksumsAndIsAligned() throws {
        let blob = self.blob
        let xsdt = table(at: try #require(blob.littleEndian(UInt64.self, at: 24)), in: blob)
        let pointers = stride(from: 36, to: xsdt.count, by: 8).compactMap { xsdt.littleEndian(UInt64.self, at: $0) }
        let signatures = pointers.map { String(decoding: table(at: $0, in: blob)[0..<4], as: UTF8.self) }
        #expect(signatures == ["FACP", "APIC"])
        for pointer in pointers {
            #expect(pointer % 16 == 0)
            #expect(sum(table(at: pointer, in: blob)) == 0)
        }
    }

    @Test func fadtIsHardwareReducedWithSleepAndResetRegistersAndDSDT() throws {
        let blob = self.blob
        let xsdt = table(at: try #require(blob.littleEndian(UInt64.self, at: 24)), in: blob)
        let fadt = table(at: try #require(xsdt.littleEndian(UInt64.self, at: 36)), in: blob)
        #expect(fadt.count == 276)
        #expect(fadt[8] == 6)
        let flags = try #require(fadt.littleEndian(UInt32.self, at: 112))
        #expect(flags & (1 << 20) != 0)
        #expect(flags & (1 << 10) != 0)
        // Reset register: system I/O, 8 bits, at the reset port; value 1.
        #expect(Array(fadt[116..<120]) == [1, 8, 0, 1])
        #expect(fadt.littleEndian(UInt64.self, at: 120) == UInt64(ACPIPowerPorts.reset))
        #expect(fadt[128] == ACPIPowerPorts.resetValue)
        #expect(fadt.littleEndian(UInt64.self, at: 244 + 4) == UInt64(ACPIPowerPorts.sleepControl))
        #expect(fadt.littleEndian(UInt64.self, at: 256 + 4) == UInt64(ACPIPowerPorts.sleepStatus))
        #expect(fadt.littleEndian(UInt32.self, at: 40) == 0)
        let dsdt = table(at: try #require(fadt.littleEndian(UInt64.self, at: 140)), in: blob)
        #expect(Array(dsdt[0..<4]) == Array("DSDT".utf8))
        #expect(sum(dsdt) == 0)
    }

    @Test func madtListsEachCPUAndTheIOAPIC() throws {
        let madt = MultipleAPICDescriptionTable(cpuCount: 3).encoded()
        #expect(sum(madt) == 0)
        #expect(madt.littleEndian(UInt32.self, at: 36) == 0xFEE0_0000)
        var offset = 44
        var apicIDs: [UInt8] = []
        var ioapics: [UInt32] = []
        var nmis = 0
        while offset < madt.count {
            let type = madt[offset], length = Int(madt[offset + 1])
            #expect(length > 0)
            switch type {
            case 0:
                apicIDs.append(madt[offset + 3])
                #expect(madt.littleEndian(UInt32.self, at: offset + 4) == 1)
            case 1:
                ioapics.append(madt.littleEndian(UInt32.self, at: offset + 4) ?? 0)
                #expect(madt.littleEndian(UInt32.self, at: offset + 8) == 0)
            case 4:
                nmis += 1
                #expect(madt[offset + 5] == 1)
            default:
                Issue.record("unexpected MADT entry type \(type)")
            }
            offset += length
        }
        #expect(offset == madt.count)
        #expect(apicIDs == [0, 1, 2])
        #expect(ioapics == [0xFEC0_0000])
        #expect(nmis == 1)
    }

    @Test func softOffRequestMatchesTheS5Package() {
        #expect(ACPIPowerPorts.isSoftOffRequest((5 << 2) | 0x20))
        #expect(!ACPIPowerPorts.isSoftOffRequest(5 << 2))
        #expect(!ACPIPowerPorts.isSoftOffRequest((3 << 2) | 0x20))
    }
}

@Suite struct AMLTests {
    @Test func packageLengthUsesOneToFourBytes() {
        #expect(AML.packageLength(10) == [11])
        #expect(AML.packageLength(62) == [63])
        // 63 content bytes + 2 length bytes = 65 = 0x41 → lead 0x41 (1 follow byte, nibble 1), then 0x04.
        #expect(AML.packageLength(63) == [0x41, 0x04])
        // 0x1000 + 3 = 0x1003 → lead 0x83 (2 follow bytes, nibble 3), then 0x00, 0x01.
        #expect(AML.packageLength(0x1000) == [0x83, 0x00, 0x01])
    }

    @Test func integersUseTheShortestEncoding() {
        #expect(AML.integer(0) == [0x00])
        #expect(AML.integer(1) == [0x01])
        #expect(AML.integer(5) == [0x0A, 5])
        #expect(AML.integer(0x1234) == [0x0B, 0x34, 0x12])
        #expect(AML.integer(0xD000_0000) == [0x0C, 0, 0, 0, 0xD0])
        #expect(AML.integer(1 << 40).count == 9)
    }

    @Test func namesAndEISAIds() {
        #expect(AML.nameString("\\_SB_") == [0x5C] + Array("_SB_".utf8))
        #expect(AML.nameString("_S5") == Array("_S5_".utf8))
        #expect(AML.nameString("\\_SB_.V000") == [0x5C, 0x2E] + Array("_SB_V000".utf8))
        #expect(AML.eisaID("PNP0501") == [0x0C, 0x41, 0xD0, 0x05, 0x01])
    }

    @Test func dsdtHasS5PackageAndVirtioDeviceObjects() {
        let device = ACPIDevice.virtioMMIO(index: 0x12, base: 0xD000_0000, length: 0x200, gsi: 7)
        #expect(device.name == "V012")
        let dsdt = DifferentiatedSystemDescriptionTable(devices: [device]).encoded()
        #expect(dsdt.reduce(0, &+) == 0)
        let body = Array(dsdt[36...])
        // Name(_S5_, Package(2) { 5, 0 })
        #expect(Array(body[0..<11]) == [0x08] + Array("_S5_".utf8) + [0x12, 0x05, 0x02, 0x0A, 0x05, 0x00])
        let aml = device.aml
        #expect(aml.starts(with: [0x5B, 0x82]))
        #expect(contains(aml, Array("LNRO0005".utf8)))
        // Memory32Fixed(ReadWrite, 0xD0000000, 0x200) and Interrupt(edge, active high) GSI 7.
        #expect(contains(aml, [0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xD0, 0x00, 0x02, 0x00, 0x00]))
        #expect(contains(aml, [0x89, 0x06, 0x00, 0x03, 0x01, 0x07, 0x00, 0x00, 0x00, 0x79, 0x00]))
        #expect(contains(body, aml))
    }

    @Test func com1IsAPNP0501DeviceWithItsPortsAndGSI() {
        let aml = ACPIDevice.com1().aml
        #expect(contains(aml, Array("COM1".utf8)))
        #expect(contains(aml, [0x08] + Array("_HID".utf8) + [0x0C, 0x41, 0xD0, 0x05, 0x01]))
        // FixedIO(0x3F8, 8) then Interrupt(edge, active high) { 4 }.
        #expect(contains(aml, [0x4B, 0xF8, 0x03, 0x08, 0x89, 0x06, 0x00, 0x03, 0x01, 0x04, 0x00, 0x00, 0x00]))
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
    }
}
