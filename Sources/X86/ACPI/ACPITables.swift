/// The complete ACPI table set of a microVM, laid out in one blob for guest-physical
/// ``baseAddress``: RSDP (revision 2) → XSDT → {FADT → DSDT, MADT}
/// (ACPI 6.5, 5.2.5 "Root System Description Pointer", 5.2.8 "XSDT").
public struct ACPITables: Sendable {
    public static let rsdpLength = 36
    static let alignment = 16

    public var baseAddress: UInt64
    public var cpuCount: Int
    public var devices: [ACPIDevice]

    public init(baseAddress: UInt64 = BootLayout.acpiAddress, cpuCount: Int, devices: [ACPIDevice]) {
        self.baseAddress = baseAddress
        self.cpuCount = cpuCount
        self.devices = devices
    }

    /// The RSDP comes first, so its address is the blob's.
    public var rsdpAddress: UInt64 { baseAddress }

    /// The RSDP, XSDT, FADT, MADT and DSDT, each 16-byte aligned.
    public func encoded() -> [UInt8] {
        var blob = [UInt8](repeating: 0, count: Self.rsdpLength)
        func place(_ table: [UInt8]) -> UInt64 {
            while blob.count % Self.alignment != 0 { blob.append(0) }
            let address = baseAddress + UInt64(blob.count)
            blob += table
            return address
        }
        let dsdt = place(DifferentiatedSystemDescriptionTable(devices: devices).encoded())
        let fadt = place(FixedACPIDescriptionTable(dsdtAddress: dsdt).encoded())
        let madt = place(MultipleAPICDescriptionTable(cpuCount: cpuCount).encoded())
        var xsdtBody: [UInt8] = []
        xsdtBody.appendLittleEndian(fadt)
        xsdtBody.appendLittleEndian(madt)
        let xsdt = place(ACPITableHeader.table(signature: "XSDT", revision: 1, body: xsdtBody))
        blob.replaceSubrange(0..<Self.rsdpLength, with: Self.rsdp(xsdtAddress: xsdt))
        return blob
    }

    /// RSDP revision 2: "RSD PTR ", checksum over the first 20 bytes, no RSDT,
    /// length 36, XSDT address, extended checksum over all 36 bytes.
    static func rsdp(xsdtAddress: UInt64) -> [UInt8] {
        var bytes: [UInt8] = Array("RSD PTR ".utf8)
        bytes.append(0) // checksum
        bytes.appendASCII(ACPITableHeader.oemID, width: 6)
        bytes.append(2) // revision
        bytes.appendLittleEndian(UInt32(0)) // RSDT address: none
        bytes.appendLittleEndian(UInt32(rsdpLength))
        bytes.appendLittleEndian(xsdtAddress)
        bytes.append(0) // extended checksum
        bytes += [0, 0, 0]
        bytes[8] = ACPITableHeader.checksum(bytes[0..<20])
        bytes[32] = ACPITableHeader.checksum(bytes)
        return bytes
    }
}
