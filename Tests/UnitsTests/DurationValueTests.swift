import Testing
import Units

struct DurationValueTests {
    @Test(arguments: [
        ("0", .zero), ("+0", .zero), ("-0", .zero), ("0s", .zero), ("5s", .seconds(5)), ("300ms", .milliseconds(300)),
        ("1.5h", .seconds(5400)), ("2h45m", .seconds(9900)), ("1m30s", .seconds(90)), ("1.5s", .milliseconds(1500)),
        (".5s", .milliseconds(500)), ("1.s", .seconds(1)), ("10ns", .nanoseconds(10)), ("3us", .microseconds(3)),
        ("3\u{B5}s", .microseconds(3)), ("3\u{3BC}s", .microseconds(3)), ("1h1m1s1ms1us1ns", .nanoseconds(3_661_001_001_001)),
        ("9223372036854775807ns", .nanoseconds(Int64.max)), ("2562047h", .seconds(2_562_047 * 3600)),
        ("0.100000000000000000000h", .seconds(360)),
    ] as [(String, Duration)])
    func parsesGoDurations(text: String, duration: Duration) throws {
        #expect(try DurationValue.parse(text) == duration)
    }

    @Test(arguments: [
        "", " ", "s", "1", "10", "-1s", "-1.5h", "1x", "1S", "1sec", "1 s", " 1s", "1s ", ".", ".s", "1..5s", "1.5.5s",
        "nan", "inf", "1e3s", "١s", "9223372036854775808ns", "2562048h", "99999999999999999999h", "3000000h",
        "9223372036854775807ns1ns", "1h-1m", "+", "-", "--1s", "1ss", "1s1", "0.5",
        // Found by Fuzz/Units: 22 digits overflowed UInt64 while being read (an arithmetic trap).
        "5124444444444444444444m", "18446744073709551616ns",
    ])
    func rejectsGarbageAndOverflow(text: String) {
        #expect(throws: ValueError.self) { try DurationValue.parse(text) }
    }

    @Test func aTimeoutIsSecondsWhenBare() throws {
        #expect(try DurationValue.parseTimeout("10") == .seconds(10))
        #expect(try DurationValue.parseTimeout("0") == .zero)
        #expect(try DurationValue.parseTimeout("2.5") == .milliseconds(2500))
        #expect(try DurationValue.parseTimeout("1500ms") == .milliseconds(1500))
        for bad in ["", "-1", "nan", "1e400", "99999999999999999999", "10x", "+5"] {
            let error = try #require(throws: ValueError.self) { try DurationValue.parseTimeout(bad) }
            #expect(error.description.contains("'\(bad)'"))
        }
    }
}
