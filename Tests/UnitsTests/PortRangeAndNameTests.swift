import Testing
import Units

struct PortRangeTests {
    @Test func parsesPortsAndRanges() throws {
        #expect(try PortRange.parse("80") == PortRange(first: 80, last: 80))
        #expect(try PortRange.parse("1") == PortRange(first: 1, last: 1))
        #expect(try PortRange.parse("65535") == PortRange(first: 65535, last: 65535))
        #expect(try PortRange.parse("8000-8010") == PortRange(first: 8000, last: 8010))
        #expect(try PortRange.parse("0080-0080") == PortRange(first: 80, last: 80))
    }

    @Test(arguments: [
        "", "0", "65536", "99999999999999999999", "-1", "+80", "80-", "-80", "8010-8000", "1-2-3", "0-10", "80 ",
        " 80", "80/tcp", "١", "8000–8010", "a-b", "nan", "1e3",
    ])
    func rejectsGarbage(text: String) {
        #expect(throws: ValueError.self) { try PortRange.parse(text) }
    }
}

struct ContainerNameTests {
    @Test(arguments: [("web", "web"), ("/web", "web"), ("a1", "a1"), ("My_app.v2-1", "My_app.v2-1"), ("0x", "0x")])
    func acceptsDockerNames(text: String, name: String) throws {
        #expect(try ContainerName.validate(text) == name)
    }

    @Test(arguments: [
        "", "/", "a", "/a", "//web", "-web", "_web", ".web", "web app", "web/app", "wéb", "web\n", "ｗｅｂ", "🙂🙂",
        "web:1", "web\u{0}",
    ])
    func rejectsOtherNames(text: String) {
        #expect(throws: ValueError.self) { try ContainerName.validate(text) }
    }
}

struct PidsLimitTests {
    @Test func parsesDockerLimits() throws {
        #expect(try PidsLimit.parse("100") == 100)
        #expect(try PidsLimit.parse("1") == 1)
        #expect(try PidsLimit.parse("4194304") == 4_194_304)
        #expect(try PidsLimit.parse("-1") == nil)
        #expect(try PidsLimit.parse("0") == nil)
    }

    @Test(arguments: ["", "4194305", "9223372036854775808", "-9223372036854775809", "1.5", "nan", "1e3", "١", " 1", "--1", "ten"])
    func rejectsGarbage(text: String) {
        #expect(throws: ValueError.self) { try PidsLimit.parse(text) }
    }
}
