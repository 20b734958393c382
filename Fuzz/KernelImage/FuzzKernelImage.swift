import Machine
import X86

/// Fuzzes the kernel image parsers and the loader: the input is a kernel file, read as a
/// bzImage setup header (Linux boot.rst), as an ELF vmlinux with a PVH note, and then
/// loaded by ``KernelLoader`` into 16 MiB of guest memory, as `swiftlet boot` would. A
/// malformed image must give an error naming what is wrong, never a crash or a write
/// outside guest memory. The loader is used from the fuzzing thread only.
let memory = try? GuestMemory(size: 16 << 20)
nonisolated(unsafe) let loader = memory.map { KernelLoader(memory: $0, acpi: ACPITables(cpuCount: 1, devices: [])) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let image = Array(UnsafeBufferPointer(start: data, count: size))
    if let header = try? SetupHeader(image: image) {
        precondition(header.protectedModeOffset < image.count, "setup header accepted without a protected-mode kernel")
    }
    if let elf = try? ELFKernel(image: image) {
        for segment in elf.segments {
            precondition(segment.fileOffset + segment.fileSize <= image.count, "ELF segment accepted outside the file")
        }
    }
    _ = try? loader?.load(kernel: image, initrdPath: nil, commandLine: "console=ttyS0 reboot=k panic=-1")
    return 0
}
