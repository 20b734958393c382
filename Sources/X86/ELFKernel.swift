/// An ELF64 x86-64 kernel (vmlinux) with a PVH entry point: its loadable segments
/// and the `XEN_ELFNOTE_PHYS32_ENTRY` note (ELF-64 Object File Format; Xen
/// public/elfnote.h; the PVH boot ABI in xen/include/public/arch-x86/hvm/start_info.h).
public struct ELFKernel: Sendable {
    /// One `PT_LOAD` program header: copy `fileSize` bytes from `fileOffset` to
    /// guest-physical `physicalAddress`, zero-fill up to `memorySize`.
    public struct Segment: Equatable, Sendable {
        public var fileOffset: Int
        public var physicalAddress: UInt64
        public var fileSize: Int
        public var memorySize: UInt64
    }

    /// `XEN_ELFNOTE_PHYS32_ENTRY`.
    public static let pvhEntryNoteType: UInt32 = 18

    public var segments: [Segment]
    /// 32-bit protected-mode entry point from the PVH note.
    public var pvhEntry: UInt32

    /// Whether `image` starts with the ELF magic.
    public static func isELF(_ image: [UInt8]) -> Bool {
        image.count >= 4 && image[0..<4].elementsEqual([0x7F, 0x45, 0x4C, 0x46])
    }

    public init(image: [UInt8]) throws(BootImageError) {
        guard Self.isELF(image), image.count >= 64 else { throw .notAKernel }
        guard image[4] == 2, image[5] == 1 else { throw .elf("not a little-endian 64-bit ELF") }
        guard image.littleEndian(UInt16.self, at: 18) == 62 else { throw .elf("not an x86-64 ELF") }
        guard let phoff = image.littleEndian(UInt64.self, at: 32),
              let phentsize = image.littleEndian(UInt16.self, at: 54),
              let phnum = image.littleEndian(UInt16.self, at: 56), phentsize >= 56 else {
            throw .elf("bad ELF header")
        }
        var segments: [Segment] = []
        var entry: UInt32?
        for i in 0..<Int(phnum) {
            let (base, overflow) = Int(clamping: phoff).addingReportingOverflow(i * Int(phentsize))
            guard !overflow, let type = image.littleEndian(UInt32.self, at: base),
                  let offset = image.littleEndian(UInt64.self, at: base + 8),
                  let paddr = image.littleEndian(UInt64.self, at: base + 24),
                  let filesz = image.littleEndian(UInt64.self, at: base + 32),
                  let memsz = image.littleEndian(UInt64.self, at: base + 40) else {
                throw .truncated(what: "program header \(i)")
            }
            guard offset <= UInt64(image.count), filesz <= UInt64(image.count) - offset, filesz <= memsz else {
                throw .truncated(what: "segment \(i) lies outside the file")
            }
            switch type {
            case 1: // PT_LOAD
                segments.append(Segment(fileOffset: Int(offset), physicalAddress: paddr, fileSize: Int(filesz), memorySize: memsz))
            case 4: // PT_NOTE
                entry = entry ?? Self.pvhEntry(notes: image[Int(offset)..<Int(offset + filesz)])
            default:
                continue
            }
        }
        guard !segments.isEmpty else { throw .elf("no loadable segments") }
        guard let entry else { throw .elf("no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build with CONFIG_PVH") }
        self.segments = segments
        self.pvhEntry = entry
    }

    /// Scans one note segment (namesz, descsz, type, name, desc; 4-byte aligned) for
    /// a "Xen" note of type 18 and returns its entry address.
    static func pvhEntry(notes: ArraySlice<UInt8>) -> UInt32? {
        let bytes = Array(notes)
        var position = 0
        func aligned(_ n: Int) -> Int { (n + 3) & ~3 }
        while let nameSize = bytes.littleEndian(UInt32.self, at: position),
              let descSize = bytes.littleEndian(UInt32.self, at: position + 4),
              let type = bytes.littleEndian(UInt32.self, at: position + 8),
              nameSize < 256, descSize < 4096 {
            let nameStart = position + 12
            let descStart = nameStart + aligned(Int(nameSize))
            guard descStart + Int(descSize) <= bytes.count else { return nil }
            let name = bytes[nameStart..<nameStart + Int(nameSize)].prefix { $0 != 0 }
            if type == pvhEntryNoteType, name.elementsEqual("Xen".utf8), descSize >= 4 {
                // The descriptor is a 32-bit address (older kernels emit it as a quad).
                return bytes.littleEndian(UInt32.self, at: descStart)
            }
            position = descStart + aligned(Int(descSize))
        }
        return nil
    }
}
