/// One small resource data descriptor of a `_CRS` ResourceTemplate (ACPI 6.5,
/// 6.4 "Resource Data Types for ACPI").
public enum ResourceDescriptor: Equatable, Sendable {
    /// 32-bit fixed memory range (large item 0x86).
    case memory32Fixed(base: UInt32, length: UInt32, writable: Bool)
    /// Extended interrupt (large item 0x89), one GSI, consumer.
    case interrupt(gsi: UInt32, edgeTriggered: Bool, activeLow: Bool)
    /// Fixed-location I/O port range (small item type 0x09, 10-bit decode).
    case fixedIO(base: UInt16, length: UInt8)

    public var encoded: [UInt8] {
        switch self {
        case .memory32Fixed(let base, let length, let writable):
            var bytes: [UInt8] = [0x86, 9, 0, writable ? 1 : 0]
            bytes.appendLittleEndian(base)
            bytes.appendLittleEndian(length)
            return bytes
        case .interrupt(let gsi, let edge, let activeLow):
            let flags: UInt8 = 0x01 | (edge ? 0x02 : 0) | (activeLow ? 0x04 : 0)
            var bytes: [UInt8] = [0x89, 6, 0, flags, 1]
            bytes.appendLittleEndian(gsi)
            return bytes
        case .fixedIO(let base, let length):
            var bytes: [UInt8] = [0x4B]
            bytes.appendLittleEndian(base)
            bytes.append(length)
            return bytes
        }
    }

    /// A ResourceTemplate buffer: the descriptors and the End Tag (checksum 0 = none).
    public static func template(_ descriptors: [ResourceDescriptor]) -> [UInt8] {
        AML.buffer(descriptors.flatMap { $0.encoded } + [0x79, 0])
    }
}

/// A device declared in the DSDT's `\_SB` scope (ACPI 6.5, 6.1 "Device
/// Identification Objects", 6.2 "Device Configuration Objects"): `_HID`, `_UID`
/// and the `_CRS` resources the OS binds a driver with.
public struct ACPIDevice: Equatable, Sendable {
    public enum HardwareID: Equatable, Sendable {
        /// A string id such as "LNRO0005".
        case string(String)
        /// A compressed EISA id such as "PNP0501".
        case eisa(String)
    }

    /// Four-character object name, unique in `\_SB`.
    public var name: String
    public var hardwareID: HardwareID
    public var uniqueID: UInt32
    public var resources: [ResourceDescriptor]

    public init(name: String, hardwareID: HardwareID, uniqueID: UInt32, resources: [ResourceDescriptor]) {
        self.name = name
        self.hardwareID = hardwareID
        self.uniqueID = uniqueID
        self.resources = resources
    }

    /// A virtio-mmio transport as Linux's `virtio_mmio` driver finds it through ACPI:
    /// `_HID "LNRO0005"`, its register window and an edge-triggered, active-high GSI.
    public static func virtioMMIO(index: Int, base: UInt32, length: UInt32, gsi: UInt32) -> ACPIDevice {
        let hexDigits = Array("0123456789ABCDEF".utf8)
        let name = "V" + String(decoding: [hexDigits[(index >> 8) & 0xF], hexDigits[(index >> 4) & 0xF], hexDigits[index & 0xF]], as: UTF8.self)
        return ACPIDevice(name: name, hardwareID: .string("LNRO0005"), uniqueID: UInt32(index),
                          resources: [.memory32Fixed(base: base, length: length, writable: true),
                                      .interrupt(gsi: gsi, edgeTriggered: true, activeLow: false)])
    }

    /// The PC's first serial port (COM1, I/O 0x3F8–0x3FF, ISA IRQ 4) as a `PNP0501`
    /// device. Under hardware-reduced ACPI there is no legacy PIC and Linux maps no ISA
    /// IRQs by default, so the UART's interrupt reaches the IOAPIC only through this
    /// `_CRS` (Linux's 8250_pnp driver registers the GSI for the port).
    public static func com1(gsi: UInt32 = 4) -> ACPIDevice {
        ACPIDevice(name: "COM1", hardwareID: .eisa("PNP0501"), uniqueID: 1,
                   resources: [.fixedIO(base: 0x3F8, length: 8),
                               .interrupt(gsi: gsi, edgeTriggered: true, activeLow: false)])
    }

    /// The `Device` object.
    public var aml: [UInt8] {
        let hid: [UInt8]
        switch hardwareID {
        case .string(let id): hid = AML.string(id)
        case .eisa(let id): hid = AML.eisaID(id)
        }
        return AML.device(name, [
            AML.name("_HID", hid),
            AML.name("_UID", AML.integer(UInt64(uniqueID))),
            AML.name("_CRS", ResourceDescriptor.template(resources)),
        ])
    }
}

/// The DSDT (ACPI 6.5, 5.2.11.1): the `\_S5` soft-off package the OS needs to power
/// off through the FADT sleep registers, and the platform's devices under `\_SB`.
public struct DifferentiatedSystemDescriptionTable: Sendable {
    public static let revision: UInt8 = 2

    public var devices: [ACPIDevice]

    public init(devices: [ACPIDevice]) {
        self.devices = devices
    }

    public func encoded() -> [UInt8] {
        let s5Type = UInt64(ACPIPowerPorts.softOffSleepType)
        var body = AML.name("_S5_", AML.package([AML.integer(s5Type), AML.integer(0)]))
        body += AML.scope("\\_SB_", devices.map { $0.aml })
        return ACPITableHeader.table(signature: "DSDT", revision: Self.revision, body: body)
    }
}
