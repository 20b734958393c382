import ChildProcess
import Foundation
import Synchronization
import Units
import HostSystem
#if canImport(Glibc)
import Glibc
#endif

/// A microVM container's main process as its monitor sees it: the VMM (a child of the
/// monitor, the container's recorded pid), the main agent session and the control socket
/// through which other processes signal the container. The exit code is the one the agent
/// reports; a VM that ends without one gives 137 when the host killed it, else 125. A VMM
/// that a signal ended by itself (SIGSYS from its seccomp filters, a crash) is recorded
/// as the container's error with the end of its console log, where the VMM names the
/// forbidden system call.
final class MicroVMProcess: ContainerProcess {
    let session: AgentSession
    let vmm: ChildProcess
    var pid: pid_t { vmm.pid }
    let bundle: ContainerBundle
    var terminal: Int32? { nil }
    private let control: Mutex<ControlSocket?> = Mutex(nil)
    private let killedByHost = Mutex(false)

    init(session: AgentSession, vmm: ChildProcess, control path: String, bundle: ContainerBundle) throws {
        self.session = session
        self.vmm = vmm
        self.bundle = bundle
        let socket = try ControlSocket(path: path) { [weak self] signal in
            guard let self else { return false }
            return self.deliver(signal)
        }
        control.withLock { $0 = socket }
    }

    /// Forwards `signal` to the container's init; a SIGKILL the guest does not act on
    /// within `killTimeout` kills the VM.
    private func deliver(_ signal: Int32) -> Bool {
        guard (try? session.signal(signal)) != nil else { return false }
        if signal == SIGKILL {
            Thread { [self] in
                // Ends early when the VM does.
                if vmm.wait(timeout: Double(MicroVMBackend.killTimeout.components.seconds)) == nil {
                    _ = killedByHostIfRunning()
                }
            }.start()
        }
        return true
    }

    /// Kills the VMM unless the session already ended; true when it did so.
    private func killedByHostIfRunning() -> Bool {
        killedByHost.withLock { killed in
            guard !killed, !session.hasEnded else { return false }
            killed = true
            session.expectLoss()
            vmm.signal(SIGKILL)
            return true
        }
    }

    func wait() -> Int32 {
        let outcome = session.outcome()
        control.withLock { $0?.close(); $0 = nil }
        // After `exited` the agent syncs and powers off; otherwise nothing is left to wait for.
        let ending: Int32?
        if case .exited = outcome {
            ending = stopVMM(after: MicroVMBackend.powerOffTimeout)
        } else {
            ending = stopVMM(after: .zero)
        }
        switch outcome {
        case .exited(let status), .failed(let status, _):
            return status
        case .lost:
            if killedByHost.withLock({ $0 }) { return 137 }
            recordLostAgent(vmmStatus: ending)
            return 125
        }
    }

    /// Records why the agent's session ended without an exit status: the VMM killed by a
    /// signal, or the guest gone (a panic, a reboot) — with the console's last lines.
    private func recordLostAgent(vmmStatus: Int32?) {
        let console = bundle.path("console.log")
        let cause: String
        if let status = vmmStatus, status > 128 {
            let signal = status - 128
            let name = signal == SIGSYS ? "SIGSYS, a system call its seccomp filter forbids" : String(cString: strsignal(signal))
            cause = "the microVM's VMM (swiftlet-vmm) was killed by signal \(signal) (\(name))"
        } else {
            let ending = vmmStatus.map { "the VMM exited with status \($0)" } ?? "the VMM was stopped"
            cause = "the microVM's guest agent went away without reporting an exit (\(ending))"
        }
        let message = "\(cause); its console \(console) ends: \(MicroVMBackend.lastLines(of: console))"
        _ = try? bundle.updateState { $0.error = message }
    }

    func resize(_ size: winsize) {
        session.resize(size)
    }

    /// Waits up to `grace` for the VMM to exit by itself, then kills and reaps it. The
    /// status (``ChildProcess/wait(timeout:)``: 128 + N for signal N) of a VMM that ended
    /// by itself (one already exiting when killed included: the kernel keeps its first
    /// fatal signal), nil when the kill here ended it.
    private func stopVMM(after grace: Duration) -> Int32? {
        if let status = vmm.wait(timeout: DurationValue.seconds(grace)) { return status }
        let status = vmm.waitKilling(after: 0).status
        return status == 128 + SIGKILL ? nil : status
    }
}
