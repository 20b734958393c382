import Testing
import Units

struct CPUCountTests {
    @Test(arguments: [
        ("1", 1), ("1.5", 1.5), ("0.5", 0.5), (".25", 0.25), ("2.", 2), ("0.000000001", 0.000000001),
        ("1024", 1024), ("1024.000", 1024), ("0001", 1), ("1.1000000000000", 1.1), ("0.123456789", 0.123456789),
    ] as [(String, Double)])
    func parsesDockerCPUs(text: String, cpus: Double) throws {
        #expect(try CPUCount.parse(text) == cpus)
    }

    @Test(arguments: [
        "", " ", "0", "0.0", "0.0000000001", "-1", "+1", "1024.000000001", "1025", "99999999999999999999", "1e3",
        "1e400", "nan", "NaN", "inf", "-inf", "1,5", "1.5.5", ".", "1 ", " 1", "١", "２", "1/2", "0x1", "1_0",
        "1.0000000001",
    ])
    func rejectsGarbageAndOutOfRange(text: String) {
        #expect(throws: ValueError.self) { try CPUCount.parse(text) }
    }

    @Test func theErrorSaysTheRange() throws {
        let error = try #require(throws: ValueError.self) { try CPUCount.parse("5000") }
        #expect(error.description.contains("'5000'"))
        #expect(error.description.contains("1024"))
    }
}
