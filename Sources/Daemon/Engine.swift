import Foundation
import HostSystem
import Images
import Runtime

/// What every router works on: the state root shared with the `swiftlet` CLI (its file
/// locks are the contract between them), the runtime over it, the default isolation of
/// new containers and the daemon's identity.
public final class Engine: Sendable {
    public let root: String
    public let runtime: Runtime
    public let defaultIsolation: Isolation
    public let debug: Bool
    /// A stable id for `/info`, kept in the state root.
    public let id: String
    /// The exec instances made through the API (in memory, as moby's).
    public let execs = ExecSessions()

    public init(root: String, executable: String, defaultIsolation: Isolation, debug: Bool) throws {
        self.root = root
        runtime = try Runtime(root: root, executable: executable)
        self.defaultIsolation = defaultIsolation
        self.debug = debug
        let idFile = "\(root)/engine-id"
        if let saved = try? String(contentsOfFile: idFile, encoding: .utf8), !saved.isEmpty {
            id = saved.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            id = UUID().uuidString.lowercased()
            try? AtomicFile.write(Array(id.utf8), to: idFile)
        }
    }

    /// The image store (opened per use: it holds no state beyond the files).
    public func images() throws -> ImageStore {
        try ImageStore(root: root)
    }
}
