import Testing
@testable import EmbeddedDNS

/// The server's decisions without sockets.
struct DNSResolverTests {
    static let resolver = DNSResolver(networks: [
        "n": NetworkRecords(network: "n", gateway: "10.89.0.1", subnet: "10.89.0.0/24", containers: [
            .init(id: "a", names: ["web", "api"], address: "10.89.0.2"),
            .init(id: "b", names: ["api", "DB."], address: "10.89.0.3"),
        ]),
    ])
    static let asker = IPv4Address("10.89.0.2")!

    static func reply(_ decision: DNSResolver.Decision) throws -> DNSMessage {
        guard case .reply(let bytes) = decision else { throw DNSMessageError.truncated }
        return try DNSMessage(parsing: bytes)
    }

    @Test func aliasSharedByContainersGivesEveryAddress() throws {
        let reply = try Self.reply(Self.resolver.decide(try DNSMessageTests.query("API"), network: "n", source: Self.asker))
        #expect(reply.answers.map(\.data) == [[10, 89, 0, 2], [10, 89, 0, 3]])
        let db = try Self.reply(Self.resolver.decide(try DNSMessageTests.query("db"), network: "n", source: Self.asker))
        #expect(db.answers.map(\.data) == [[10, 89, 0, 3]])
    }

    @Test func otherOpcodesQuestionCountsAndResponses() throws {
        var query = try DNSMessage(parsing: try DNSMessageTests.query("web"))
        query.flags |= 2 << 11
        #expect(try Self.reply(Self.resolver.decide(query.encoded(), network: "n", source: Self.asker)).responseCode == 4)
        query.flags = 0x0100
        query.questions.append(query.questions[0])
        #expect(try Self.reply(Self.resolver.decide(query.encoded(), network: "n", source: Self.asker)).responseCode == 1)
        let response = DNSMessage.response(to: try DNSMessage(parsing: try DNSMessageTests.query("web")), code: .noError)
        #expect(Self.resolver.decide(response.encoded(), network: "n", source: Self.asker) == .ignore)
        #expect(Self.resolver.decide([1, 2], network: "n", source: Self.asker) == .ignore)
        // An unknown network is nobody's: REFUSED.
        #expect(try Self.reply(Self.resolver.decide(try DNSMessageTests.query("web"), network: "x", source: Self.asker)).responseCode == 5)
    }

    /// A container only on internal networks has no way out: unknown names get NXDOMAIN.
    @Test func internalNetworksDoNotForward() throws {
        let resolver = DNSResolver(networks: [
            "i": NetworkRecords(network: "i", gateway: "10.89.9.1", subnet: "10.89.9.0/24",
                                containers: [.init(id: "a", names: ["web"], address: "10.89.9.2")], internal: true),
        ])
        let source = IPv4Address("10.89.9.2")!
        #expect(try Self.reply(resolver.decide(try DNSMessageTests.query("example.com"), network: "i", source: source)).responseCode == 3)
        #expect(try Self.reply(resolver.decide(try DNSMessageTests.query("web"), network: "i", source: source)).answers.count == 1)
    }

    @Test func unknownNamesAndTheRootAreForwarded() throws {
        for name in ["example.com", "web.n", ""] {
            let decision = Self.resolver.decide(try DNSMessageTests.query(name), network: "n", source: Self.asker)
            guard case .forward(let query) = decision else {
                Issue.record("\(name): \(decision)")
                continue
            }
            #expect(query.questions.first?.name == (try DNSName(name)))
        }
    }
}
