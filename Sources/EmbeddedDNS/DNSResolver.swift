/// What the embedded server does with one query (RFC 1035 §4.3.1, §4.3.2 as the local
/// server of a container network): answer it from the records, or have it forwarded to
/// the host's resolvers. A pure function of the records it was made with, so a TCP
/// connection's thread can use a copy while the server reloads.
struct DNSResolver: Sendable {
    /// What to do with a query.
    enum Decision: Equatable {
        /// Send these bytes back.
        case reply([UInt8])
        /// Send the query to the upstream resolvers and relay their reply.
        case forward(DNSMessage)
        /// Send nothing (a response, or bytes too short to answer).
        case ignore
    }

    /// Every network's records, by network id.
    let networks: [String: NetworkRecords]

    /// The decision for `bytes` arriving on `network`'s socket from `source`: REFUSED for a
    /// source that is not one of the network's containers (no open resolver), an answer
    /// for a name of a container sharing a network with the asker, else forwarding
    /// (NXDOMAIN when the asker is only on internal networks, which have no way out).
    func decide(_ bytes: [UInt8], network: String, source: IPv4Address) -> Decision {
        let query: DNSMessage
        do {
            query = try DNSMessage(parsing: bytes)
        } catch {
            return DNSMessage.formatError(replyingTo: bytes).map(Decision.reply) ?? .ignore
        }
        if query.isResponse { return .ignore }
        guard let asker = networks[network]?.containers.first(where: { IPv4Address($0.address) == source }) else {
            return reply(query, .refused)
        }
        guard query.opcode == 0 else { return reply(query, .notImplemented) }
        guard query.questions.count == 1, let question = query.questions.first else { return reply(query, .formatError) }
        guard let addresses = addresses(of: question.name.key, askedBy: asker.id, arrivedOn: network) else {
            let joined = networks.values.filter { $0.containers.contains { $0.id == asker.id } }
            return joined.allSatisfy(\.internal) ? reply(query, .nameError) : .forward(query)
        }
        if question.type == DNSMessage.typeA && question.class == DNSMessage.classIN {
            return reply(query, .noError, addresses)
        }
        return reply(query, .noError)
    }

    /// The addresses of the containers named `key` on the networks `asker` is on,
    /// `preferred` first: those of the first network where the name is known; nil when it
    /// is known on none.
    func addresses(of key: String, askedBy asker: String, arrivedOn preferred: String) -> [IPv4Address]? {
        guard !key.isEmpty else { return nil }
        let shared = networks.filter { $0.value.containers.contains { $0.id == asker } }
            .sorted { ($0.key == preferred ? 0 : 1, $0.key) < ($1.key == preferred ? 0 : 1, $1.key) }
        for (_, records) in shared {
            let matches = records.containers.filter { container in
                container.names.contains { (try? DNSName($0))?.key == key }
            }.compactMap { IPv4Address($0.address) }
            if !matches.isEmpty { return matches }
        }
        return nil
    }

    private func reply(_ query: DNSMessage, _ code: DNSMessage.ResponseCode, _ addresses: [IPv4Address] = []) -> Decision {
        .reply(DNSMessage.response(to: query, code: code, addresses: addresses).encoded())
    }
}
