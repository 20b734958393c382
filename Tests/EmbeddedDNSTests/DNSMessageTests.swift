import Testing
@testable import EmbeddedDNS

struct DNSMessageTests {
    /// A query for `name` of `type` with RD set, as `dig` sends it.
    static func query(_ name: String, type: UInt16 = DNSMessage.typeA, id: UInt16 = 0x1234) throws -> [UInt8] {
        DNSMessage(id: id, flags: 0x0100, questions: [DNSQuestion(name: try DNSName(name), type: type)]).encoded()
    }

    @Test func parsesAQuery() throws {
        // dig web.example A: ID 0xabcd, RD, one question.
        let bytes: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                              3, 0x77, 0x65, 0x62, 7, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0, 0, 1, 0, 1]
        let message = try DNSMessage(parsing: bytes)
        #expect(message.id == 0xABCD)
        #expect(!message.isResponse && message.recursionDesired && message.opcode == 0)
        #expect(message.questions == [DNSQuestion(name: try DNSName("web.example."), type: 1, class: 1)])
        #expect(message.questions[0].name.description == "web.example")
        #expect(message.encoded() == bytes)
    }

    @Test func namesCompareWithoutCaseOrTrailingDot() throws {
        #expect(try DNSName("WeB.Example.") == DNSName("web.example"))
        #expect(try DNSName("Web").key == "web")
        #expect(try DNSName("web") != DNSName("web.example"))
    }

    @Test func answersRoundTrip() throws {
        let query = try DNSMessage(parsing: Self.query("Web"))
        let addresses = [IPv4Address("10.89.0.2")!, IPv4Address("10.89.0.3")!]
        let bytes = DNSMessage.response(to: query, code: .noError, addresses: addresses).encoded()
        // The answers' names point at the question (offset 12).
        #expect(bytes[12 + 5 + 4] == 0xC0 && bytes[12 + 5 + 4 + 1] == 12)
        let response = try DNSMessage(parsing: bytes)
        #expect(response.id == 0x1234 && response.isResponse && response.recursionDesired && response.responseCode == 0)
        #expect(response.flags & 0x0080 != 0, "RA")
        #expect(response.questions == query.questions)
        #expect(response.answers.map(\.data) == [[10, 89, 0, 2], [10, 89, 0, 3]])
        #expect(response.answers.allSatisfy { $0.ttl == 600 && $0.type == 1 && $0.class == 1 && $0.name.description == "Web" })
    }

    @Test(arguments: [DNSMessage.ResponseCode.noError, .nameError, .serverFailure, .refused, .formatError, .notImplemented])
    func emptyResponsesCarryTheirCode(code: DNSMessage.ResponseCode) throws {
        let query = try DNSMessage(parsing: Self.query("db", type: DNSMessage.typeAAAA, id: 7))
        let response = try DNSMessage(parsing: DNSMessage.response(to: query, code: code).encoded())
        #expect(response.id == 7 && response.isResponse && response.responseCode == code.rawValue)
        #expect(response.answers.isEmpty && response.questions == query.questions)
    }

    @Test func followsCompressionPointers() throws {
        // Two questions: example.com, then www + pointer to offset 12.
        let bytes: [UInt8] = [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
                              7, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x63, 0x6F, 0x6D, 0, 0, 1, 0, 1,
                              3, 0x77, 0x77, 0x77, 0xC0, 12, 0, 28, 0, 1]
        let message = try DNSMessage(parsing: bytes)
        #expect(message.questions.map(\.name.description) == ["example.com", "www.example.com"])
        #expect(message.questions.map(\.type) == [1, 28])
    }

    @Test func rejectsPointerLoops() {
        // A pointer to itself, and one pointing forwards.
        let selfLoop: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSMessageError.badPointer) { try DNSMessage(parsing: selfLoop) }
        let forwards: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 14, 0, 1, 0, 1, 0]
        #expect(throws: DNSMessageError.badPointer) { try DNSMessage(parsing: forwards) }
        let twoCycle: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0xC0, 16, 0xC0, 12, 0, 1, 0, 1]
        #expect(throws: DNSMessageError.self) { try DNSMessage(parsing: twoCycle) }
    }

    @Test func rejectsTruncatedMessages() throws {
        let bytes = try Self.query("web.example")
        for length in 0..<bytes.count {
            #expect(throws: DNSMessageError.self) { try DNSMessage(parsing: Array(bytes[..<length])) }
        }
        let pointerCutShort: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0]
        #expect(throws: DNSMessageError.truncated) { try DNSMessage(parsing: pointerCutShort) }
        let hugeCounts: [UInt8] = [0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0]
        #expect(throws: DNSMessageError.truncated) { try DNSMessage(parsing: hugeCounts) }
    }

    @Test func rejectsOversizedLabelsAndNames() throws {
        // A length byte of 64 is the retired label type 01.
        var label: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]
        #expect(throws: DNSMessageError.badLabelType) { try DNSMessage(parsing: label) }
        label[12] = 0x80
        #expect(throws: DNSMessageError.badLabelType) { try DNSMessage(parsing: label) }
        // Five labels of 63: 321 bytes on the wire.
        let long: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
            + (0..<5).flatMap { _ in [63] + [UInt8](repeating: 0x61, count: 63) } + [0, 0, 1, 0, 1]
        #expect(throws: DNSMessageError.nameTooLong) { try DNSMessage(parsing: long) }
        #expect(throws: DNSMessageError.labelTooLong) { try DNSName(String(repeating: "a", count: 64)) }
        #expect(throws: DNSMessageError.emptyLabel) { try DNSName("a..b") }
    }

    @Test func formatErrorKeepsTheID() throws {
        let garbage: [UInt8] = [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        let reply = try DNSMessage(parsing: try #require(DNSMessage.formatError(replyingTo: garbage)))
        #expect(reply.id == 0xBEEF && reply.isResponse && reply.responseCode == 1 && reply.questions.isEmpty)
        #expect(DNSMessage.formatError(replyingTo: [1, 2, 3]) == nil)
        var response = garbage
        response[2] |= 0x80
        #expect(DNSMessage.formatError(replyingTo: response) == nil)
    }

    @Test func neverTrapsOnRandomBytes() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count > 5 { bytes[4] = 0; bytes[5] = 1 }
            _ = try? DNSMessage(parsing: bytes)
        }
    }

    @Test func parsesAddresses() {
        #expect(IPv4Address("10.89.0.1")?.bytes == [10, 89, 0, 1])
        #expect(IPv4Address("255.255.255.255")?.description == "255.255.255.255")
        for bad in ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "a.b.c.d", "1.2.3.-4", "::1", "1.2.3.4 "] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
        let address = IPv4Address("127.77.0.2")!
        #expect(IPv4Address(networkOrder: address.networkOrder) == address)
    }
}
