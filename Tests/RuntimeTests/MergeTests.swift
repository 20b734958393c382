import HostSystem
import AgentProtocol
import Foundation
import Images
@testable import Runtime
import Testing

/// Docker's merge rules for image config and run overrides, and user resolution.
@Suite struct MergeTests {
    func image(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String]? = nil, dir: String? = nil, user: String? = nil) throws -> ImageConfig.Runtime {
        var fields: [String: Any] = [:]
        fields["Entrypoint"] = entrypoint
        fields["Cmd"] = cmd
        fields["Env"] = env
        fields["WorkingDir"] = dir
        fields["User"] = user
        return try JSONDecoder().decode(ImageConfig.Runtime.self, from: JSONSerialization.data(withJSONObject: fields))
    }

    func merge(_ options: CreateOptions, _ image: ImageConfig.Runtime) throws -> ProcessSpec {
        try ProcessMerge.merge(options, image: image, hostname: "h", hostEnvironment: ["HOSTVAR": "fromhost"])
    }

    @Test func entrypointAndCmd() throws {
        let base = try image(entrypoint: ["/entry", "-x"], cmd: ["default"])
        var options = CreateOptions(image: "i")
        #expect(try merge(options, base).args == ["/entry", "-x", "default"])
        options.command = ["mine"]
        #expect(try merge(options, base).args == ["/entry", "-x", "mine"])
        options.entrypoint = "/other"
        options.command = []
        #expect(try merge(options, base).args == ["/other"])
        options.entrypoint = ""
        options.command = ["ls"]
        #expect(try merge(options, base).args == ["ls"])
        options.command = []
        #expect(throws: SwiftletError.self) { try merge(options, base) }
    }

    @Test func environment() throws {
        var options = CreateOptions(image: "i")
        options.env = ["A=2", "HOSTVAR", "UNSET", "B=x=y"]
        let env = try merge(options, try image(cmd: ["x"], env: ["A=1", "PATH=/bin"])).env
        #expect(env.contains("A=2") && !env.contains("A=1"))
        #expect(env.contains("HOSTVAR=fromhost") && !env.contains { $0.hasPrefix("UNSET") })
        #expect(env.contains("PATH=/bin") && env.contains("HOSTNAME=h") && env.contains("B=x=y"))
        let defaults = try merge(CreateOptions(image: "i"), try image(cmd: ["x"])).env
        #expect(defaults.contains(ProcessMerge.defaultPath))
    }

    @Test func workingDirAndUser() throws {
        var options = CreateOptions(image: "i")
        let base = try image(cmd: ["x"], dir: "/srv", user: "app")
        #expect(try merge(options, base).cwd == "/srv")
        #expect(try merge(options, base).user == "app")
        options.workingDir = "/w"
        options.user = "1000:1000"
        #expect(try merge(options, base).cwd == "/w")
        #expect(try merge(options, base).user == "1000:1000")
        options.workingDir = "relative"
        #expect(throws: SwiftletError.self) { try merge(options, base) }
        #expect(try merge(CreateOptions(image: "i"), try image(cmd: ["x"])).cwd == "/")
    }

    @Test func userLookupFailureIsRuntimeError126() throws {
        let passwd = "root:x:0:0:root:/root:/bin/sh\n"
        #expect(try ResolvedUser.resolve("", passwd: passwd, group: "").home == "/root")
        do {
            _ = try ResolvedUser.resolve("ghost", passwd: passwd, group: "")
            Issue.record("an unknown user resolved")
        } catch {
            #expect(error.code == .cannotExecute && error.code.exitStatus == 126)
            #expect(error.message == "unable to find user ghost: no matching entries in passwd file")
        }
    }

    @Test func envFiles() throws {
        #expect(CreateOptions.envFileEntries("# c\nA=1\n\n  B \n") == ["A=1", "B"])
    }

    @Test func volumeSpecs() throws {
        let root = NSTemporaryDirectory() + "swiftlet-volumes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try VolumeStore(root: root)
        let named = try store.mount("data:/srv:ro")
        #expect(named.volume == "data" && named.destination == "/srv" && named.readOnly)
        #expect(FileManager.default.fileExists(atPath: named.source))
        #expect(try store.mount("/tmp:/host").volume == nil)
        for bad in ["data", "data:relative", "data:/x:rx", "/does/not/exist:/x", "-bad:/x"] {
            #expect(throws: SwiftletError.self) { try store.mount(bad) }
        }
        #expect(throws: SwiftletError.self) { try store.remove("data", users: ["abc"]) }
        try store.remove("data", users: [])
        #expect(store.list().isEmpty)
    }
}
