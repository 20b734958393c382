import ChildProcess
import Foundation
import KVM
import Synchronization
import Testing
@testable import Machine

/// Builds firmware/ once per test process with its build script (gcc).
enum FirmwareBuild {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("firmware")

    /// nil when the build succeeded, else why not.
    static let failure: String? = {
        let build: ChildProcess.Result
        do {
            build = try ChildProcess.run(["/bin/sh", directory.appendingPathComponent("build.sh").path])
        } catch {
            return "cannot run firmware/build.sh: \(error)"
        }
        return build.status == 0 ? nil : "firmware/build.sh failed: \(build.stdout)\(build.stderr)"
    }()

    static func path(_ name: String) -> String {
        directory.appendingPathComponent("out").appendingPathComponent(name).path
    }

    /// Whether `test` can run firmware here: false (after printing why, or recording the
    /// build failure) when this host's KVM cannot run freestanding guests or the build failed.
    static func runs(_ test: String) -> Bool {
        let kind = HostKVM.detect()
        guard kind.runsFreestandingGuests else {
            print("SKIPPED \(test) on KVM: \(kind.summary)")
            return false
        }
        if let failure {
            Issue.record(Comment(rawValue: failure))
            return false
        }
        return true
    }
}

/// Runs the freestanding guests in firmware/ on this host's /dev/kvm through the
/// real Machine: bzImage and PVH loading, vCPU setup, COM1, the boot-timer port,
/// i8042 reset, ACPI power-off, triple-fault reporting, and INIT/SIPI SMP start-up.
@Suite(.serialized) struct FirmwareOnKVMTests {
    final class Console: Sendable {
        let bytes = Mutex<[UInt8]>([])
        var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
    }

    /// Boots `firmware` and returns how it ended and what it printed; nil (after
    /// printing why) when this host cannot run it.
    func boot(_ firmware: String, commandLine: String = "firmware-test", cpus: Int = 1) throws -> (MachineExit, String, Machine)? {
        guard FirmwareBuild.runs(firmware) else { return nil }
        let console = Console()
        let configuration = MachineConfiguration(kernelPath: FirmwareBuild.path(firmware), commandLine: commandLine,
                                                 cpuCount: cpus, memorySize: 64 << 20,
                                                 consoleOutput: { byte in console.bytes.withLock { $0.append(byte) } })
        let machine = try Machine(configuration: configuration)
        let exit = try machine.run()
        return (exit, console.text, machine)
    }

    @Test func firmwareBootsOnKVMThroughTheBzImagePath() throws {
        guard let (exit, output, machine) = try boot("hello64.bzImage", commandLine: "console=ttyS0 firmware-marker") else { return }
        #expect(exit == .reset(source: "i8042 reset line"))
        #expect(exit.exitStatus == 0)
        #expect(output.contains("hello from 64-bit long mode"))
        #expect(output.contains("cmdline: console=ttyS0 firmware-marker"))
        #expect(output.contains("e820: 3 entries, 63 MiB RAM"))
        #expect(output.contains("acpi: 1 cpus"))
        #expect(output.contains("cpuid: hypervisor bit set"))
        #expect(output.contains("cpuid: KVM signature"))
        #expect(machine.bootTimer.recorded.map(\.value) == [0x2A])
    }

    @Test func tripleFaultOnKVMEndsWithARegisterDump() throws {
        guard let (exit, output, _) = try boot("hello64.bzImage", commandLine: "triple-fault") else { return }
        #expect(output.contains("faulting on purpose"))
        guard case .fault(let text) = exit else {
            Issue.record("expected a fault, got \(exit)")
            return
        }
        #expect(exit.exitStatus == 1)
        #expect(text.contains("triple fault") || text.contains("emulation"))
        #expect(text.contains("rip="))
        #expect(text.contains("cr3=0000000000009000"))
    }

    @Test func pvhFirmwareBootsOnKVMAndPowersOffThroughACPI() throws {
        guard let (exit, output, machine) = try boot("smp.elf", commandLine: "pvh-marker") else { return }
        #expect(exit == .powerOff)
        #expect(output.contains("start_info magic 0x336ec578 ok"))
        #expect(output.contains("cmdline: pvh-marker"))
        #expect(output.contains("smp: 1 cpus online"))
        #expect(machine.bootTimer.recorded.map(\.value) == [0x2B])
    }

    @Test(arguments: [2, 4])
    func smpFirmwareStartsEveryVCPUOnKVM(cpus: Int) throws {
        guard let (exit, output, _) = try boot("smp.elf", cpus: cpus) else { return }
        #expect(exit == .powerOff)
        #expect(output.contains("acpi: \(cpus) cpus"))
        let mask = String((1 << cpus) - 2, radix: 16)
        #expect(output.contains("smp: \(cpus) cpus online, ap apic-id mask 0x\(mask)"), "\(output)")
    }
}
