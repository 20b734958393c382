import HostSystem
import Foundation
import Synchronization
import Testing
@testable import Images
@testable import Registry

/// Push and pull against a real registry (Debian's docker-registry on 127.0.0.1).
@Suite(.serialized) struct RegistryTests {
    func insecure(retries: Int = 3) -> RegistryOptions {
        var options = RegistryOptions()
        options.insecure = true
        options.retries = retries
        return options
    }

    /// Loads the busybox test image into a store at `root` and pushes it to `registry` as `name`.
    func pushBusybox(to registry: TestRegistry, as name: String, from root: String) async throws -> ImageStore {
        let store = try ImageStore(root: root)
        _ = try store.load(from: "\(try TestImages.build())/busybox")
        try store.tag("swiftlet-test/busybox", as: "\(registry.host)/\(name)")
        try await store.push("\(registry.host)/\(name)", options: insecure())
        return store
    }

    @Test func roundTripKeepsDigestsAndSharesTheBaseLayer() async throws {
        let images = try TestImages.build()
        let registry = try TestRegistry()
        defer { registry.stop() }
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.path)
        let loaded = try store.load(from: "\(images)/busybox") + store.load(from: "\(images)/debian")
        var pushed: [String: Digest] = [:]
        for item in loaded {
            let local = try #require(item.reference)
            let remote = "\(registry.host)/\(local.path):\(local.tag ?? "latest")"
            try store.tag(local.description, as: remote)
            try await store.push(remote, options: insecure())
            pushed[remote] = item.image.manifestDescriptor.digest
        }
        #expect(pushed.count == 3)
        _ = try store.remove(loaded.compactMap { $0.reference?.description } + Array(pushed.keys))
        #expect(try store.list().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(store.store.directory)/blobs/sha256").isEmpty)

        for (remote, digest) in pushed {
            let pulled = try await store.pull(remote, options: insecure())
            #expect(pulled.image.manifestDescriptor.digest == digest, "\(remote)")
        }
        let all = try store.list()
        #expect(Set(all.map(\.digest)) == Set(pushed.values))
        // The Debian base layer is shared by debian:base and debian:latest and stored once.
        let resolved = try all.map { try store.resolve($0.digest.description) }
        let distinct = Set(resolved.flatMap { [$0.manifestDescriptor.digest, $0.id] + $0.manifest.layers.map(\.digest) })
        let blobs = try FileManager.default.contentsOfDirectory(atPath: "\(store.store.directory)/blobs/sha256")
        #expect(blobs.count == distinct.count)
        let base = try store.resolve("\(registry.host)/swiftlet-test/debian:base").manifest.layers[0].digest
        #expect(try store.resolve("\(registry.host)/swiftlet-test/debian:latest").manifest.layers[0].digest == base)
        // A digest reference finds the pulled image too.
        let latest = try #require(pushed["\(registry.host)/swiftlet-test/debian:latest"])
        #expect(try store.resolve("\(registry.host)/swiftlet-test/debian@\(latest)").manifestDescriptor.digest == latest)
    }

    /// The layer progress a pull reports (the daemon's progress stream): each layer waits,
    /// downloads (bytes rising to its size), completes its download and its pull; pulled
    /// again, it already exists.
    @Test func pullReportsEachLayersProgress() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let source = try TempDirectory(), target = try TempDirectory()
        defer { source.cleanup(); target.cleanup() }
        _ = try await pushBusybox(to: registry, as: "progress/busybox:1", from: source.path)
        let events = Mutex<[PullProgress]>([])
        var options = insecure()
        options.observer = { event in events.withLock { $0.append(event) } }
        let store = try ImageStore(root: target.path)
        let pulled = try await store.pull("\(registry.host)/progress/busybox:1", options: options)
        let layer = try #require(pulled.image.manifest.layers.first)
        let id = layer.digest.short
        let seen = events.withLock { $0 }
        #expect(seen.first == .waiting(id: id))
        #expect(seen.suffix(2) == [.downloaded(id: id), .complete(id: id)])
        let downloads = seen.compactMap { event -> Int64? in
            if case .downloading(id, let current, layer.size) = event { return current }
            return nil
        }
        #expect(!downloads.isEmpty && downloads == downloads.sorted() && downloads.last == layer.size, "\(seen)")
        events.withLock { $0 = [] }
        _ = try await store.pull("\(registry.host)/progress/busybox:1", options: options)
        #expect(events.withLock { $0 } == [.exists(id: id)])
    }

    /// `login`'s check and store: the registry's `/v2/` accepts the right password and
    /// refuses a wrong one or none; the login is kept in Docker's config.json format (0600,
    /// other keys kept), found again for a pull from that registry, and removed.
    @Test func loginIsCheckedStoredAndUsed() async throws {
        let registry = try TestRegistry(htpasswd: ("alice", "s3cret"))
        defer { registry.stop() }
        var options = insecure()
        options.username = "alice"
        options.password = "s3cret"
        try await options.verifyLogin(host: registry.host)
        var wrong = options
        wrong.password = "guess"
        await #expect(throws: SwiftletError.self) { try await wrong.verifyLogin(host: registry.host) }
        do {
            try await wrong.verifyLogin(host: registry.host)
        } catch let error as SwiftletError {
            #expect(error.code == .permissionDenied && error.description.contains("incorrect username or password"), "\(error)")
        }
        await #expect(throws: SwiftletError.self) { try await self.insecure().verifyLogin(host: registry.host) }

        let config = try TempDirectory()
        defer { config.cleanup() }
        try #"{"credsStore": "", "HttpHeaders": {"X-Kept": "1"}}"#.write(toFile: config.sub("config.json"), atomically: true, encoding: .utf8)
        let credentials = RegistryCredentials(environment: ["DOCKER_CONFIG": config.path])
        try credentials.store(registry.host, username: "alice", password: "s3cret")
        let lookedUp = try #require(try credentials.lookup(registry.host))
        #expect(lookedUp.username == "alice" && lookedUp.password == "s3cret")
        let text = try String(contentsOfFile: config.sub("config.json"), encoding: .utf8)
        #expect(text.contains("\"X-Kept\"") && text.contains(Data("alice:s3cret".utf8).base64EncodedString()))
        var status = stat()
        #expect(stat(config.sub("config.json"), &status) == 0 && status.st_mode & 0o777 == 0o600)

        // A push and a pull with the stored login.
        let source = try TempDirectory(), target = try TempDirectory()
        defer { source.cleanup(); target.cleanup() }
        let store = try ImageStore(root: source.path)
        _ = try store.load(from: "\(try TestImages.build())/busybox")
        try store.tag("swiftlet-test/busybox", as: "\(registry.host)/private/busybox:1")
        var stored = insecure()
        try credentials.apply(to: &stored, host: registry.host)
        try await store.push("\(registry.host)/private/busybox:1", options: stored)
        _ = try await ImageStore(root: target.path).pull("\(registry.host)/private/busybox:1", options: stored)
        await #expect(throws: SwiftletError.self) {
            try await ImageStore(root: target.path).pull("\(registry.host)/private/busybox:1", options: self.insecure())
        }
        #expect(try credentials.remove(registry.host))
        #expect(try credentials.lookup(registry.host) == nil)
        #expect(try RegistryCredentials.host(ofServer: "https://index.docker.io/v1/") == "docker.io")
        #expect(RegistryCredentials.key(for: "docker.io") == "https://index.docker.io/v1/")
    }

    @Test func droppedConnectionMidBlobIsRetried() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let source = try await pushBusybox(to: registry, as: "busybox:1", from: temp.sub("source"))

        let proxy = try FaultProxy(upstream: registry.port, faults: 100)
        defer { proxy.stop() }
        let store = try ImageStore(root: temp.sub("target"))
        let before = Fixture.snapshot(store)
        // Every attempt is cut: the pull fails with a clear error and changes nothing.
        await #expect {
            try await store.pull("\(proxy.host)/busybox:1", options: insecure(retries: 2))
        } throws: { error in
            let message = (error as? SwiftletError)?.message ?? ""
            return message.contains("pulling blob sha256:") && message.contains("failed after 3 attempts")
        }
        #expect(proxy.cuts == 3)
        #expect(Fixture.snapshot(store) == before)
        // One cut: the built-in retry recovers.
        proxy.setFaults(1)
        let pulled = try await store.pull("\(proxy.host)/busybox:1", options: insecure())
        #expect(proxy.cuts == 4)
        #expect(pulled.image.id == (try source.resolve("swiftlet-test/busybox").id))
    }

    @Test func bearerTokenAuthentication() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let source = try await pushBusybox(to: registry, as: "private/busybox:1", from: temp.sub("source"))

        let proxy = try FaultProxy(upstream: registry.port, faults: 0)
        defer { proxy.stop() }
        proxy.token = "s3cr3t-token"
        let store = try ImageStore(root: temp.sub("target"))
        await #expect {
            try await store.pull("\(proxy.host)/private/busybox:1", options: insecure())
        } throws: { error in
            (error as? SwiftletError)?.message.contains("token request") == true
        }
        var options = insecure()
        options.username = "user"
        options.password = "secret"
        let pulled = try await store.pull("\(proxy.host)/private/busybox:1", options: options)
        #expect(pulled.image.id == (try source.resolve("swiftlet-test/busybox").id))
    }

    @Test func missingImageIsAClearError() async throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let temp = try TempDirectory()
        defer { temp.cleanup() }
        let store = try ImageStore(root: temp.path)
        await #expect {
            try await store.pull("\(registry.host)/nothing:here", options: insecure())
        } throws: { error in
            (error as? SwiftletError).map { $0.message.contains("HTTP 404") && $0.code == .notFound } == true
        }
    }

    @Test func challengeParsing() {
        let (scheme, parameters) = RegistryClient.parseChallenge(
            #"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#)
        #expect(scheme == "Bearer")
        #expect(parameters["realm"] == "https://auth.example.com/token")
        #expect(parameters["service"] == "registry.example.com")
        #expect(parameters["scope"] == "repository:a/b:pull,push")
        #expect(RegistryClient.parseChallenge(#"Basic realm="Registry Realm""#).0 == "Basic")
    }
}
