import ChildProcess
import Foundation
import HostSystem
import Testing
@testable import Images
@testable import Registry

/// `swiftlet image pull` killed with SIGKILL at points spread over a whole pull: the
/// store never holds a blob whose content is not complete (every file under blobs/
/// hashes to its name), every image it names resolves, and the next pull cleans up the
/// killed one's staging directory and completes.
@Suite(.serialized) struct PullInterruptionTests {
    /// Every blob file hashes to its name and every named image resolves.
    static func checkConsistent(_ store: ImageStore, _ context: String) throws {
        let blobs = "\(store.store.directory)/blobs/sha256"
        for name in try FileManager.default.contentsOfDirectory(atPath: blobs) {
            let data = try #require(FileManager.default.contents(atPath: "\(blobs)/\(name)"))
            #expect(Digest.of(data).description == "sha256:\(name)", "\(context): blob \(name)")
        }
        for summary in try store.list() {
            #expect(throws: Never.self, "\(context): \(summary.digest)") { try store.resolve(summary.digest.description) }
        }
    }

    @Test func pullKilledAtAnyPointLeavesNoPartialBlob() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: TestImages.swiftlet), "build the swiftlet product first")
        let registry = try TestRegistry()
        defer { registry.stop() }
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let source = try ImageStore(root: temp.sub("source"))
        _ = try source.load(from: "\(try TestImages.build())/debian")
        let remote = "\(registry.host)/interrupted/debian:latest"
        try source.tag("swiftlet-test/debian:latest", as: remote)
        var options = RegistryOptions()
        options.insecure = true
        try await source.push(remote, options: options)

        func pull(into root: String) throws -> ChildProcess {
            try ChildProcess([TestImages.swiftlet, "image", "pull", "--insecure", "--root", root, remote])
        }
        let clock = ContinuousClock()
        let started = clock.now
        let whole = try pull(into: temp.sub("whole"))
        #expect(whole.wait() == 0, "\(whole.output(2))")
        let duration = clock.now - started

        let kills = 10
        var interrupted = 0
        for index in 0..<kills {
            let root = temp.sub("killed-\(index)")
            let pulling = try pull(into: root)
            // A random point inside the index-th tenth of a whole pull.
            let point = duration * (Double(index) + Double.random(in: 0..<1)) / Double(kills)
            try await Task.sleep(for: point)
            pulling.signal(SIGKILL)
            _ = pulling.wait()
            guard FileManager.default.fileExists(atPath: "\(root)/blobs") else {
                interrupted += 1
                continue
            }
            let store = try ImageStore(root: root)
            try Self.checkConsistent(store, "killed after \(point)")
            if (try? store.resolve(remote)) == nil { interrupted += 1 }
            // The next pull completes and removes what the killed one staged.
            let again = try pull(into: root)
            #expect(again.wait() == 0, "\(again.output(2))")
            try Self.checkConsistent(store, "pulled again after a kill at \(point)")
            #expect(try store.resolve(remote).id == (try source.resolve(remote).id))
            #expect(try FileManager.default.contentsOfDirectory(atPath: "\(root)/tmp").isEmpty)
        }
        print("pullKilledAtAnyPointLeavesNoPartialBlob: a whole pull took \(duration); \(interrupted) of \(kills) kills landed before it finished")
        #expect(interrupted > 0, "every kill came after the pull had finished: the test interrupted nothing")
    }
}
