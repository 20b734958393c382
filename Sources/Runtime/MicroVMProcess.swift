import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A microVM container's main process as its monitor sees it: the VMM (a child of the
/// monitor, the container's recorded pid), the main agent session and the control socket
/// through which other processes signal the container. The exit code is the one the agent
/// reports; a VM that ends without one gives 137 when the host killed it, else 125.
final class MicroVMProcess: ContainerProcess {
    let session: AgentSession
    let pid: pid_t
    var terminal: Int32? { nil }
    private let control: Mutex<ControlSocket?> = Mutex(nil)
    private let killedByHost = Mutex(false)

    init(session: AgentSession, vmm: pid_t, control path: String) throws {
        self.session = session
        pid = vmm
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
            let vmm = pid
            Thread { [self] in
                Thread.sleep(forTimeInterval: Double(MicroVMBackend.killTimeout.components.seconds))
                _ = self.killedByHostIfRunning(vmm)
            }.start()
        }
        return true
    }

    /// Kills the VMM unless the session already ended; true when it did so.
    private func killedByHostIfRunning(_ vmm: pid_t) -> Bool {
        killedByHost.withLock { killed in
            guard !killed, !session.hasEnded else { return false }
            killed = true
            session.expectLoss()
            Glibc.kill(vmm, SIGKILL)
            return true
        }
    }

    func wait() -> Int32 {
        let outcome = session.outcome()
        control.withLock { $0?.close(); $0 = nil }
        // After `exited` the agent syncs and powers off; otherwise nothing is left to wait for.
        if case .exited = outcome {
            stopVMM(after: MicroVMBackend.powerOffTimeout)
        } else {
            stopVMM(after: .zero)
        }
        switch outcome {
        case .exited(let status), .failed(let status, _):
            return status
        case .lost:
            return killedByHost.withLock { $0 } ? 137 : 125
        }
    }

    func resize(_ size: winsize) {
        session.resize(size)
    }

    /// Waits up to `grace` for the VMM to exit by itself, then kills and reaps it.
    private func stopVMM(after grace: Duration) {
        let deadline = ContinuousClock.now.advanced(by: grace)
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result < 0 && errno != EINTR) { return }
            if ContinuousClock.now >= deadline { break }
            usleep(10_000)
        }
        Glibc.kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
