#if canImport(Glibc)
import Glibc
#endif
import Testing
import X86
@testable import Machine
import VMLaunch

/// Files for the loader tests, in a fresh temporary directory.
final class ScratchFiles {
    let directory: String

    init() {
        var template = Array("/tmp/swiftlet-test-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    deinit {
        if let dir = opendir(directory) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(directory)
    }

    func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    /// A sparse file of `size` bytes.
    func sparseFile(_ name: String, size: Int) -> String {
        let path = directory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        ftruncate(fd, off_t(size))
        close(fd)
        return path
    }

    /// A protocol-2.15 bzImage with one setup sector and a 4 KiB payload.
    static func bzImage() -> [UInt8] {
        var image = [UInt8](repeating: 0, count: 1024 + 4096)
        image[0x1F1] = 1
        image.setLittleEndian(UInt16(0xAA55), at: 0x1FE)
        image[0x201] = 0x66
        image.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        image.setLittleEndian(UInt16(0x020F), at: 0x206)
        image.setLittleEndian(UInt32(0x7FFF_FFFF), at: 0x22C)
        image.setLittleEndian(UInt16(1), at: 0x236)
        image.setLittleEndian(UInt32(255), at: 0x238)
        image.setLittleEndian(UInt32(0x10000), at: 0x260)
        image[1024 + 0x200] = 0xF4
        return image
    }
}

@Suite struct BootOptionTests {
    func options(kernel: String? = "/k", cpus: String = "1", memory: String = "256M") throws(ConfigurationError) -> MachineConfiguration {
        try MachineConfiguration.fromOptions(kernel: kernel, initrd: nil, commandLine: nil, cpus: cpus, memory: memory,
                                             bootTimerLogging: false, startNanoseconds: 0)
    }

    @Test func memoryIsAUnitsSizeWithABareNumberInBytes() throws {
        #expect(try options(memory: "512MiB").memorySize == 512 << 20)
        #expect(try options(memory: "1gb").memorySize == 1 << 30)
        #expect(try options(memory: "134217728").memorySize == 128 << 20)
        #expect(throws: ConfigurationError("--memory must be at least 16 MiB, got 128 bytes")) { try options(memory: "128") }
        #expect(try options(memory: "1.5g").memorySize == 3 << 29)
        for bad in ["", "M", "lots", "12X", "-1G", "99999999999999999999G", "nan", "1e400"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try options(memory: bad) }
        }
    }

    /// The launch contract's limits are the machine's: the vCPUs its MADT can describe.
    @Test func launchContractLimitsAreTheMachines() {
        #expect(BootArguments.maximumCPUs == MultipleAPICDescriptionTable.maxCPUs)
        #expect(MachineConfiguration.maximumCPUs == MultipleAPICDescriptionTable.maxCPUs)
    }

    @Test func defaultsAreOneVCPUAnd256MiB() throws {
        let configuration = try options()
        #expect(configuration.cpuCount == 1)
        #expect(configuration.memorySize == 256 << 20)
        #expect(configuration.commandLine.contains("console=ttyS0"))
    }

    @Test func badArgumentsGiveOneLineErrors() {
        let cases: [(String?, String, String, String)] = [
            (nil, "1", "256M", "--kernel"),
            ("/k", "two", "256M", "--cpus"),
            ("/k", "0", "256M", "--cpus"),
            ("/k", "1000", "256M", "--cpus"),
            ("/k", "1", "lots", "--memory"),
            ("/k", "1", "1M", "--memory"),
        ]
        for (kernel, cpus, memory, mentioned) in cases {
            do {
                _ = try options(kernel: kernel, cpus: cpus, memory: memory)
                Issue.record("accepted \(cpus) \(memory)")
            } catch {
                #expect(error.message.contains(mentioned))
                #expect(!error.message.contains("\n"))
            }
        }
    }

    @Test func missingOrNonKernelFilesAreConfigurationErrors() {
        let scratch = ScratchFiles()
        let text = scratch.file("notes.txt", Array("just some text, not a kernel".utf8))
        for path in ["/nonexistent/vmlinuz", text, scratch.directory] {
            #expect(throws: ConfigurationError.self) {
                _ = try Machine(configuration: MachineConfiguration(kernelPath: path))
            }
        }
    }
}

@Suite struct KernelLoaderTests {
    func load(memory size: UInt64, initrd: String?, commandLine: String = "console=ttyS0") throws -> (GuestMemory, BootEntry) {
        let memory = try GuestMemory(size: size)
        let entry = try KernelLoader(memory: memory, acpi: ACPITables(cpuCount: 1, devices: []))
            .load(kernel: ScratchFiles.bzImage(), initrdPath: initrd, commandLine: commandLine)
        return (memory, entry)
    }

    @Test func bzImageGoesToOneMiBWithZeroPageCommandLineAndInitrdAtTheTop() throws {
        let scratch = ScratchFiles()
        let initrd = scratch.file("initrd", [UInt8](repeating: 0xAB, count: 5000))
        let (memory, entry) = try load(memory: 64 << 20, initrd: initrd)
        #expect(entry == BootEntry(mode: .longMode, instructionPointer: 0x100200, bootInfoAddress: 0x7000))
        #expect(try memory.read(UInt8.self, at: 0x100200) == 0xF4)
        let zeroPage = try memory.read(at: 0x7000, count: 4096)
        let commandLine = UInt64(zeroPage.littleEndian(UInt32.self, at: 0x228) ?? 0)
        #expect(try memory.read(at: commandLine, count: 14) == Array("console=ttyS0".utf8) + [0])
        let initrdAddress = UInt64(zeroPage.littleEndian(UInt32.self, at: 0x218) ?? 0)
        #expect(initrdAddress % 4096 == 0)
        #expect(initrdAddress + 5000 <= 64 << 20 && initrdAddress + 5000 + 4096 > 64 << 20)
        #expect(zeroPage.littleEndian(UInt32.self, at: 0x21C) == 5000)
        #expect(try memory.read(at: initrdAddress, count: 2) == [0xAB, 0xAB])
        #expect(try memory.read(at: 0xE0000, count: 8) == Array("RSD PTR ".utf8))
        #expect(try memory.read(UInt64.self, at: 0x9000) == 0xA003)
    }

    @Test func initrdTooLargeForMemoryIsAConfigurationError() {
        let scratch = ScratchFiles()
        let initrd = scratch.sparseFile("big-initrd", size: 70 << 20)
        #expect(throws: ConfigurationError.self) { try load(memory: 64 << 20, initrd: initrd) }
    }

    @Test func commandLineLongerThanTheKernelAcceptsIsRejected() {
        #expect(throws: ConfigurationError.self) {
            try load(memory: 32 << 20, initrd: nil, commandLine: String(repeating: "x", count: 300))
        }
    }
}
