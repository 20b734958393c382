import Builder
import Foundation
import Testing

/// The build cache's view of COPY sources: bytes, modes, owners and link targets count,
/// modification times do not.
struct SourceDigestTests {
    /// A context with `a.txt`, `dir/b.txt` and `dir/link` → `b.txt`; removed by `body`'s end.
    private func withContext(_ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("builder-digest-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/dir", withIntermediateDirectories: true)
        try Data("alpha".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
        try Data("beta".utf8).write(to: URL(fileURLWithPath: root + "/dir/b.txt"))
        try FileManager.default.createSymbolicLink(atPath: root + "/dir/link", withDestinationPath: "b.txt")
        try body(root)
    }

    private func digest(_ root: String) throws -> String {
        try SourceDigest(root: root, sources: ["a.txt", "dir"]).digest
    }

    @Test func modificationTimesDoNotChangeTheDigestOrTheCacheKey() throws {
        try withContext { root in
            let before = try digest(root)
            for path in ["a.txt", "dir/b.txt", "dir"] {
                try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000)], ofItemAtPath: root + "/" + path)
            }
            #expect(try digest(root) == before)
            #expect(CacheKey.compute(parent: "sha256:p", createdBy: "COPY", sourceDigest: before)
                    == CacheKey.compute(parent: "sha256:p", createdBy: "COPY", sourceDigest: try digest(root)))
        }
    }

    @Test func bytesModesOwnersAndLinkTargetsChangeTheDigest() throws {
        try withContext { root in
            var seen: Set<String> = [try digest(root)]
            try Data("alphA".utf8).write(to: URL(fileURLWithPath: root + "/a.txt"))
            #expect(seen.insert(try digest(root)).inserted, "changed bytes")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: root + "/dir/b.txt")
            #expect(seen.insert(try digest(root)).inserted, "changed mode")
            if getuid() == 0 {
                try FileManager.default.setAttributes([.ownerAccountID: 1234, .groupOwnerAccountID: 1234], ofItemAtPath: root + "/a.txt")
                #expect(seen.insert(try digest(root)).inserted, "changed owner")
            }
            try FileManager.default.removeItem(atPath: root + "/dir/link")
            try FileManager.default.createSymbolicLink(atPath: root + "/dir/link", withDestinationPath: "a.txt")
            #expect(seen.insert(try digest(root)).inserted, "changed link target")
            try FileManager.default.moveItem(atPath: root + "/dir/b.txt", toPath: root + "/dir/c.txt")
            #expect(seen.insert(try digest(root)).inserted, "renamed file")
        }
    }

    @Test func historyLabelsNameFilesDirectoriesAndSeveralSources() throws {
        try withContext { root in
            let file = try SourceDigest(root: root, sources: ["a.txt"])
            let directory = try SourceDigest(root: root, sources: ["dir"])
            let both = try SourceDigest(root: root, sources: ["a.txt", "dir"])
            #expect(file.historyLabel.hasPrefix("file:") && file.historyLabel.count == 5 + 64)
            #expect(directory.historyLabel.hasPrefix("dir:") && directory.historyLabel.count == 4 + 64)
            #expect(both.historyLabel.hasPrefix("multi:") && both.historyLabel.count == 6 + 64)
            #expect(Set([file.digest, directory.digest, both.digest]).count == 3)
        }
    }

    @Test func cacheKeysDifferWithEachInput() {
        let key = CacheKey.compute(parent: "sha256:aa", createdBy: "/bin/sh -c make", sourceDigest: nil)
        #expect(key.hasPrefix("sha256:") && key.count == 7 + 64)
        #expect(key == CacheKey.compute(parent: "sha256:aa", createdBy: "/bin/sh -c make", sourceDigest: nil))
        #expect(key != CacheKey.compute(parent: "sha256:ab", createdBy: "/bin/sh -c make", sourceDigest: nil))
        #expect(key != CacheKey.compute(parent: "sha256:aa", createdBy: "/bin/sh -c make all", sourceDigest: nil))
        #expect(key != CacheKey.compute(parent: "sha256:aa", createdBy: "/bin/sh -c make", sourceDigest: "sha256:00"))
        #expect(CacheKey.compute(parent: "a", createdBy: "bc", sourceDigest: nil) != CacheKey.compute(parent: "ab", createdBy: "c", sourceDigest: nil))
    }

    @Test func missingSourceIsAnError() throws {
        try withContext { root in
            let error = try #require(throws: (any Error).self) { try SourceDigest(root: root, sources: ["nope"]) }
            #expect("\(error)".contains("lstat \(root)/nope"))
        }
    }
}
