import HostSystem
import Foundation

/// `pause` and `unpause` (Docker's semantics): the container's cgroup freezer stops every
/// process of a namespace container, and the whole VMM (vCPUs and device threads) of a
/// microVM container, whose processes are not the host's to freeze one by one. The state
/// records it (`State.Paused`); a signal sent to a paused container is followed by a thaw,
/// as dockerd does, so `stop`, `kill` and `rm -f` still end it.
extension Runtime {
    public func pause(_ reference: String) throws {
        let config = try containers.find(reference)
        guard try refreshedState(config).status == .running else {
            throw SwiftletError("container \(config.id) is not running", code: .conflict)
        }
        // Under the state's lock: a concurrent pause, unpause or exit waits for this one.
        try containers.bundle(config.id).updateState { state in
            guard state.status == .running else {
                throw SwiftletError("container \(config.id) is not running", code: .conflict)
            }
            guard state.paused != true else {
                throw SwiftletError("container \(config.id) is already paused", code: .conflict)
            }
            do {
                try Cgroup.locate(config.id).freeze()
            } catch {
                throw SwiftletError.wrap(error, "cannot pause container \(config.id)")
            }
            state.paused = true
        }
        recordEvent("pause", config)
    }

    public func unpause(_ reference: String) throws {
        let config = try containers.find(reference)
        guard try refreshedState(config).isPaused else {
            throw SwiftletError("Container \(config.id) is not paused", code: .conflict)
        }
        try containers.bundle(config.id).updateState { state in
            guard state.isPaused else { throw SwiftletError("Container \(config.id) is not paused", code: .conflict) }
            do {
                try Cgroup.locate(config.id).thaw()
            } catch {
                throw SwiftletError.wrap(error, "Cannot unpause container \(config.id)")
            }
            state.paused = false
        }
        recordEvent("unpause", config)
    }

    /// After a signal to a paused container: thaws it so the signal is acted on (dockerd's
    /// `killWithSignal`). Best effort, as there: the signal has gone out either way.
    func thawAfterSignal(_ config: ContainerConfig) {
        _ = try? containers.bundle(config.id).updateState { state in
            guard state.paused == true else { return }
            try Cgroup.locate(config.id).thaw()
            state.paused = false
        }
    }

    /// dockerd's refusal of an exec into a paused container.
    public static func execInPausedContainer(_ id: String) -> SwiftletError {
        SwiftletError("Container \(id) is paused, unpause the container before exec", code: .conflict)
    }
}
