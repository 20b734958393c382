import HostSystem
import Foundation
import Units

/// `rename` and `restart` (Docker's semantics: dockerd's daemon/rename.go and restart.go).
extension Runtime {
    /// `rename` (named so as not to hide rename(2) from the runtime's other files): gives
    /// a container a new name, unique among the root's containers; a `rename` event
    /// with the old name (`oldName`, with its slash, as dockerd).
    public func changeName(_ reference: String, to newName: String) throws {
        let old = reference.trimmingCharacters(in: .whitespaces)
        let name = newName.trimmingCharacters(in: .whitespaces)
        let bare = name.hasPrefix("/") ? String(name.dropFirst()) : name
        guard !old.isEmpty, old != "/", !bare.isEmpty else {
            throw SwiftletError("Neither old nor new names may be empty", code: .invalidArgument)
        }
        guard (try? ContainerName.validate(bare)) == bare else {
            throw SwiftletError("Error when allocating new name: Invalid container name (\(bare)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                code: .invalidArgument)
        }
        let found = try containers.find(old)
        var previous = found.name
        let config = try containers.changeConfig(found.id) { config, others in
            guard config.name != bare else {
                throw SwiftletError("Renaming a container with the same name as its current name", code: .invalidArgument)
            }
            if let owner = others.first(where: { $0.name == bare && $0.id != config.id }) {
                throw SwiftletError("Error when allocating new name: Conflict. The container name \"/\(bare)\" is already in use by container \"\(owner.id)\". You have to remove (or rename) that container to be able to reuse that name.",
                                    code: .conflict)
            }
            previous = config.name
            config.name = bare
        }
        recordEvent("rename", config, ["oldName": "/\(previous)"])
    }

    /// `restart`: `stop` with `timeout` (a container that is not running is just started),
    /// then `start`; a `restart` event after the start's.
    public func restart(_ reference: String, timeout: Double) throws {
        let config = try containers.find(reference)
        do {
            try stop(config.id, timeout: timeout)
            _ = try start(config.id, attach: false)
        } catch {
            throw SwiftletError.wrap(error, "Cannot restart container \(reference)")
        }
        recordEvent("restart", config)
    }
}
