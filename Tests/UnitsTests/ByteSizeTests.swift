import Testing
import Units

struct ByteSizeTests {
    @Test(arguments: [
        ("0", 0), ("1", 1), ("512", 512), ("1.5", 1), ("10 ", 10),
        ("32", 32), ("32b", 32), ("32B", 32), ("32k", 32 << 10), ("32K", 32 << 10), ("32kb", 32 << 10),
        ("32Kb", 32 << 10), ("32KiB", 32 << 10), ("32kib", 32 << 10), ("32Mb", 32 << 20), ("32MiB", 32 << 20),
        ("512m", 512 << 20), ("1g", 1 << 30), ("1gb", 1 << 30), ("1GiB", 1 << 30), ("1.5g", 3 << 29),
        ("1 g", 1 << 30), ("1 GiB", 1 << 30), (".5k", 512), ("1.k", 1024), ("2t", 2 << 40), ("1p", 1 << 50),
        ("+1k", 1024), ("1e3", 1000), ("1e3k", 1_024_000), ("0.5p", 1 << 49), ("8p", 8 << 50),
        ("9223372036854775807", Int64.max), ("9223372036854775807b", Int64.max), ("8191p", 8191 << 50),
    ] as [(String, Int64)])
    func parsesDockerSizes(text: String, bytes: Int64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test(arguments: [
        "", " ", "g", "b", "-1", "-1g", "-0.5m", "1x", "1gg", "1gib2", "1 gbb", "1ibb", "1bi", "1kbb", "1ki",
        " 1g", "1g ", "1  g", "\t1g", "1\tg", "1.2.3", ".", "..k", "1..5", "e3", "1e", "1e+", "nan", "inf", "NaN",
        "1 nan", "infinity", "0x10", "1_000", "١٢", "１２m", "12\u{0}", "1\u{0}g", "1e400", "9223372036854775808",
        "99999999999999999g", "8192p", "1e19", "99999999999999999999999999999999", "1,5g", "--1", "1-", "1m-",
    ])
    func rejectsGarbageAndOverflow(text: String) {
        #expect(throws: ValueError.self) { try ByteSize.parse(text) }
    }

    @Test func errorsAreOneLineNamingTheText() throws {
        for text in ["1x", "99999999999999999g", "-5m", "", "nan", "1..5"] {
            let error = try #require(throws: ValueError.self) { try ByteSize.parse(text) }
            #expect(error.description.contains("'\(text)'"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func guestMemoryCountsABareNumberInBytesAsDocker() throws {
        #expect(try GuestMemorySize.parse("256") == 256)
        #expect(try GuestMemorySize.parse("268435456") == 256 << 20)
        #expect(try GuestMemorySize.parse("256M") == 256 << 20)
        #expect(try GuestMemorySize.parse("2g") == 2 << 30)
        #expect(try GuestMemorySize.parse("4096b") == 4096)
        #expect(throws: ValueError.self) { try GuestMemorySize.parse("99999999999999999999") }
        #expect(throws: ValueError.self) { try GuestMemorySize.parse("lots") }
    }

    /// A container's memory limit: 0 is no limit, anything else at least 6 MiB (Docker).
    @Test func memoryLimitsFollowDockersRule() throws {
        #expect(try MemoryLimit.parse("0") == nil)
        #expect(try MemoryLimit.parse("6m") == 6 << 20)
        #expect(try MemoryLimit.parse("1gb") == 1 << 30)
        for small in ["1", "256", "6291455", "5m"] {
            #expect(throws: ValueError("minimum memory limit allowed is 6MB"), "\(small)") { try MemoryLimit.parse(small) }
        }
        #expect(throws: ValueError.self) { try MemoryLimit.parse("-1") }
    }

    @Test func theRuntimesMemoryArgumentParsesBackToTheSameSize() throws {
        for mebibytes: Int64 in [1, 128, 640, 1 << 20] {
            #expect(try GuestMemorySize.parse(GuestMemorySize.argument(mebibytes: mebibytes)) == mebibytes << 20)
        }
    }
}
