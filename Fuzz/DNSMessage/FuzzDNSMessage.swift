@testable import EmbeddedDNS

/// Fuzzes DNS message parsing (Sources/EmbeddedDNS/DNSMessage.swift) and the server's
/// decision on a packet from a container (DNSResolver): the input, as a UDP payload, must
/// parse or throw a ``DNSMessageError``, never crash; a parsed message re-encodes to
/// bytes that parse to the same message, and every reply the server would send parses.
let resolver = DNSResolver(networks: [
    "n": NetworkRecords(network: "n", gateway: "10.89.0.1", subnet: "10.89.0.0/24", containers: [
        .init(id: "a", names: ["web", "Alias.Name"], address: "10.89.0.2"),
        .init(id: "b", names: ["db"], address: "10.89.0.3"),
    ]),
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? DNSMessage(parsing: bytes) {
        let again = try? DNSMessage(parsing: message.encoded())
        precondition(again == message && again?.questions.map(\.name.labels) == message.questions.map(\.name.labels),
                     "re-encoding changed \(message)")
        let response = DNSMessage.response(to: message, code: .noError, addresses: [IPv4Address("10.89.0.2")!])
        precondition((try? DNSMessage(parsing: response.encoded())) != nil, "response to \(message) does not parse")
    }
    if let reply = DNSMessage.formatError(replyingTo: bytes) {
        precondition((try? DNSMessage(parsing: reply)) != nil, "FORMERR reply does not parse")
    }
    for source in ["10.89.0.2", "10.89.0.9"] {
        if case .reply(let reply) = resolver.decide(bytes, network: "n", source: IPv4Address(source)!) {
            precondition((try? DNSMessage(parsing: reply))?.isResponse == true, "reply does not parse")
        }
    }
    return 0
}
