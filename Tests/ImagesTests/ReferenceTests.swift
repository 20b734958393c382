import HostSystem
import Testing
@testable import Images

@Suite struct ReferenceTests {
    @Test func bareNameGetsDockerHubLibraryAndLatest() throws {
        let reference = try ImageReference(parsing: "busybox")
        #expect(reference.host == "docker.io")
        #expect(reference.path == "library/busybox")
        #expect(reference.tag == "latest")
        #expect(reference.digest == nil)
        #expect(reference.description == "docker.io/library/busybox:latest")
    }

    @Test func nameWithTag() throws {
        let reference = try ImageReference(parsing: "user/app:1.2.3-rc_1")
        #expect(reference.host == "docker.io")
        #expect(reference.path == "user/app")
        #expect(reference.tag == "1.2.3-rc_1")
    }

    @Test func hostPortNameAndDigest() throws {
        let hex = String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "127.0.0.1:5000/team/app@sha256:\(hex)")
        #expect(reference.host == "127.0.0.1:5000")
        #expect(reference.path == "team/app")
        #expect(reference.tag == nil)
        #expect(reference.digest?.hex == hex)
        #expect(reference.manifestReference == "sha256:\(hex)")
    }

    @Test func localhostAndTagWithDigest() throws {
        let hex = String(repeating: "0", count: 64)
        let reference = try ImageReference(parsing: "localhost/app:v1@sha256:\(hex)")
        #expect(reference.host == "localhost")
        #expect(reference.path == "app")
        #expect(reference.tag == "v1")
        #expect(reference.digest != nil)
    }

    @Test func portWithoutTagIsNotATag() throws {
        let reference = try ImageReference(parsing: "registry.example.com:443/app")
        #expect(reference.host == "registry.example.com:443")
        #expect(reference.tag == "latest")
    }

    @Test(arguments: [
        "", "UPPER/case", "app:", "app:-bad", "a//b", "app@sha256:short", "app@md5:" + String(repeating: "0", count: 32),
        "-leading/dash", "trailing_/x", "host:port:5000/x", "app:" + String(repeating: "t", count: 129),
    ])
    func invalidReferencesAreRejected(text: String) {
        #expect(throws: SwiftletError.self) { try ImageReference(parsing: text) }
    }

    @Test func pathComponentSeparators() {
        for valid in ["a", "a.b", "a_b", "a__b", "a-b", "a---b", "a1.b2_c3"] {
            #expect(ImageReference.isValidPathComponent(valid), "\(valid)")
        }
        for invalid in ["a___b", "a..b", ".a", "a.", "a_-b", "A"] {
            #expect(!ImageReference.isValidPathComponent(invalid), "\(invalid)")
        }
    }
}

@Suite struct PlatformTests {
    static let index = ImageIndex(manifests: [
        Descriptor(mediaType: MediaType.ociManifest, digest: Digest.of(.init("arm".utf8)), size: 1,
                   platform: Platform(os: "linux", architecture: "arm", variant: "v7")),
        Descriptor(mediaType: MediaType.ociManifest, digest: Digest.of(.init("arm64".utf8)), size: 1,
                   platform: Platform(os: "linux", architecture: "arm64", variant: "v8")),
        Descriptor(mediaType: MediaType.dockerManifest, digest: Digest.of(.init("amd64".utf8)), size: 1,
                   platform: Platform(os: "linux", architecture: "amd64")),
        Descriptor(mediaType: "application/vnd.in-toto+json", digest: Digest.of(.init("att".utf8)), size: 1,
                   platform: Platform(os: "unknown", architecture: "unknown")),
    ])

    @Test func defaultPicksLinuxAMD64() throws {
        #expect(try Self.index.select(.linuxAMD64).digest == Digest.of(.init("amd64".utf8)))
    }

    @Test func variantIsOptionalButHonoured() throws {
        #expect(try Self.index.select(Platform(parsing: "linux/arm64")).digest == Digest.of(.init("arm64".utf8)))
        #expect(try Self.index.select(Platform(parsing: "linux/arm/v7")).digest == Digest.of(.init("arm".utf8)))
        #expect(throws: SwiftletError.self) { try Self.index.select(Platform(parsing: "linux/arm/v6")) }
    }

    @Test func missingPlatformNamesWhatIsAvailable() {
        #expect {
            try Self.index.select(Platform(parsing: "windows/amd64"))
        } throws: { error in
            (error as? SwiftletError)?.message.contains("linux/amd64") == true
        }
    }

    @Test func singleManifestWithoutPlatformIsAccepted() throws {
        let index = ImageIndex(manifests: [Descriptor(mediaType: MediaType.ociManifest, digest: Digest.of(.init()), size: 1)])
        #expect(try index.select(.linuxAMD64).digest == Digest.of(.init()))
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d"])
    func malformedPlatforms(text: String) {
        #expect(throws: SwiftletError.self) { try Platform(parsing: text) }
    }
}
