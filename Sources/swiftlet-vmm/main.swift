#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Machine
import VMLaunch

// `swiftlet boot` (the `swiftlet-vmm` executable): boots a Linux kernel (bzImage or PVH
// ELF) in a microVM with the serial console on this terminal; exits 0 when the guest
// powers off or reboots. It is a separate executable, with its own small argument
// parser (`BootArguments`), so that the per-VM process links no Foundation: `swiftlet
// boot` execs it.
//
// Once the machine is built (every file and device open), a root VMM enters its jail
// (`Jail`), then every thread loads its seccomp filter (`SeccompFilters`) before the
// guest runs. SWIFTLET_VMM_TEST_FORBIDDEN_SYSCALL=1 (for tests only) makes the main
// thread call getppid(2), which no filter allows, once all threads are confined.

let start = BootTimerPort.monotonicNanoseconds()
let arguments: BootArguments
let machine: Machine
do {
    arguments = try BootArguments(parsing: Array(CommandLine.arguments.dropFirst()))
    if arguments.help {
        print(BootArguments.usage, terminator: "")
        exit(0)
    }
    machine = try Machine(configuration: try arguments.configuration(startNanoseconds: start))
} catch let error as ConfigurationError {
    StandardError.write("swiftlet boot: error: \(error)\n")
    exit(2)
} catch {
    StandardError.write("swiftlet boot: error: \(error)\n")
    exit(1)
}

do {
    try SeccompFilters.installViolationHandler()
    if Jail.applies(arguments) { try Jail.enter(keeping: Jail.keptDirectories(machine.configuration)) }
} catch {
    StandardError.write("swiftlet boot: error: \(error)\n")
    exit(1)
}

let callsForbiddenSyscall = getenv("SWIFTLET_VMM_TEST_FORBIDDEN_SYSCALL").map { String(cString: $0) == "1" } ?? false
let confine: ThreadConfinement = { kind in
    try SeccompFilters.load(for: kind)
    if kind == .main && callsForbiddenSyscall { _ = getppid() }
}
let console = HostConsole()
let machineExit: MachineExit
do {
    try console.forwardInput(to: machine, confine: confine)
    machineExit = try machine.run(stopSignals: [SIGINT, SIGTERM], confine: confine)
} catch {
    console.restore()
    StandardError.write("swiftlet boot: error: \(error)\n")
    exit(1)
}
console.restore()
switch machineExit {
case .fault(let text):
    StandardError.write("swiftlet boot: guest failed: \(text)\n")
case .signal:
    StandardError.write("swiftlet boot: \(machineExit)\n")
case .powerOff, .reset:
    if arguments.bootTimer { StandardError.write("swiftlet boot: \(machineExit)\n") }
}
exit(machineExit.exitStatus)
