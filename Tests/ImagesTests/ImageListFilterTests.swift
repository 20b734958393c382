import HostSystem
import Testing
@testable import Images

/// `images --filter` and the reference argument, as dockerd filters its image list.
@Suite struct ImageListFilterTests {
    private let digest = try! Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
    private var images: [ImageSummary] {
        [ImageSummary(id: digest, digest: digest, references: ["docker.io/library/busybox:latest", "docker.io/library/busybox:1.36",
                                                               "localhost:5000/team/app:1"], size: 1, created: nil),
         ImageSummary(id: digest, digest: digest, references: [], size: 2, created: nil)]
    }

    @Test func referencePatternsMatchTheFamiliarNameWithOrWithoutTheTag() throws {
        #expect(try ImageListFilter(flags: ["reference=busybox"]).apply(images).map(\.references)
                == [["docker.io/library/busybox:latest", "docker.io/library/busybox:1.36"]])
        #expect(try ImageListFilter(flags: ["reference=busybox:1.*"]).apply(images).map(\.references) == [["docker.io/library/busybox:1.36"]])
        #expect(try ImageListFilter(flags: ["reference=localhost:5000/*/app"]).apply(images).map(\.references) == [["localhost:5000/team/app:1"]])
        #expect(try ImageListFilter(flags: ["reference=*"]).apply(images).count == 1)  // '*' does not cross '/'
        #expect(try ImageListFilter(flags: ["reference=nothing"]).apply(images).isEmpty)
    }

    @Test func danglingKeepsOnlyUnnamedImagesOrOnlyNamedOnes() throws {
        #expect(try ImageListFilter(flags: ["dangling=true"]).apply(images).map(\.size) == [2])
        #expect(try ImageListFilter(flags: ["dangling=false"]).apply(images).map(\.size) == [1])
    }

    @Test func badFiltersAreDockersErrors() {
        #expect(throws: SwiftletError("invalid filter 'colour'", code: .invalidArgument)) { try ImageListFilter(flags: ["colour=red"]) }
        #expect(throws: SwiftletError("Invalid filter 'dangling=maybe'", code: .invalidArgument)) { try ImageListFilter(flags: ["dangling=maybe"]) }
        #expect(throws: SwiftletError("bad format of filter (expected name=value)", code: .invalidArgument)) { try ImageListFilter(flags: ["dangling"]) }
    }
}
