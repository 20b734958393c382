/// Why bytes are not a DNS message this server can read (RFC 1035 §4.1): every way a
/// hostile or damaged packet can fail to parse ends here, never in a trap.
public enum DNSMessageError: Error, Equatable, Sendable {
    /// The message ends inside the header, a name, a question or a record.
    case truncated
    /// A label longer than 63 bytes (RFC 1035 §2.3.4).
    case labelTooLong
    /// A name longer than 255 bytes on the wire (RFC 1035 §2.3.4).
    case nameTooLong
    /// A compression pointer that does not point strictly backwards, or too many of them.
    case badPointer
    /// A label type other than a length (00) or a pointer (11): RFC 6891 §5 retired 01 and 10.
    case badLabelType
    /// A name given as text with an empty label (`a..b`).
    case emptyLabel
}

/// A domain name as the labels on the wire (RFC 1035 §3.1), compared without regard to
/// ASCII case (RFC 4343) and written without the root's trailing dot.
public struct DNSName: Equatable, Sendable, CustomStringConvertible {
    public let labels: [[UInt8]]

    /// The name of `text` (`web`, `db.example.` — the trailing dot is ignored); throws
    /// for an empty label, a label or a name too long.
    public init(_ text: String) throws(DNSMessageError) {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
        if parts.last?.isEmpty == true { parts.removeLast() }
        try self.init(labels: parts)
    }

    /// The name of these labels, the root's empty one left out; throws for an empty
    /// label, a label or a name too long.
    public init(labels: [[UInt8]]) throws(DNSMessageError) {
        guard labels.allSatisfy({ !$0.isEmpty }) else { throw .emptyLabel }
        guard labels.allSatisfy({ $0.count <= 63 }) else { throw .labelTooLong }
        guard labels.reduce(1, { $0 + $1.count + 1 }) <= 255 else { throw .nameTooLong }
        self.labels = labels
    }

    /// The name in lower case, labels joined by dots, no trailing dot: the key lookups use.
    public var key: String {
        String(decoding: labels.joined(separator: [UInt8(ascii: ".")]).map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    public var description: String { String(decoding: Array(labels.joined(separator: [UInt8(ascii: ".")])), as: UTF8.self) }

    public static func == (left: DNSName, right: DNSName) -> Bool { left.key == right.key }

    /// The uncompressed wire form: each label after its length, then the root's zero.
    var wire: [UInt8] { labels.flatMap { [UInt8($0.count)] + $0 } + [0] }
}

/// One entry of the question section (RFC 1035 §4.1.2).
public struct DNSQuestion: Equatable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var `class`: UInt16

    public init(name: DNSName, type: UInt16, class: UInt16 = DNSMessage.classIN) {
        self.name = name
        self.type = type
        self.class = `class`
    }
}

/// One resource record of the answer, authority or additional section (RFC 1035 §4.1.3).
public struct DNSRecord: Equatable, Sendable {
    public var name: DNSName
    public var type: UInt16
    public var `class`: UInt16
    public var ttl: UInt32
    public var data: [UInt8]
}

/// A DNS message (RFC 1035 §4.1): the header (§4.1.1) and the question and answer
/// sections; authority and additional records are parsed only to check them. Parsing never
/// traps on hostile input; ``response(to:code:addresses:)`` builds the answers this
/// server gives.
public struct DNSMessage: Equatable, Sendable {
    /// The response codes this server sends (RFC 1035 §4.1.1 RCODE).
    public enum ResponseCode: UInt8, Sendable {
        case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
    }

    public static let typeA: UInt16 = 1
    public static let typeAAAA: UInt16 = 28
    public static let classIN: UInt16 = 1
    /// Seconds a resolver may cache an answer: what Docker's embedded DNS gives.
    public static let answerTTL: UInt32 = 600

    public var id: UInt16
    /// The header's second 16 bits: QR, opcode, AA, TC, RD, RA, Z and RCODE.
    public var flags: UInt16
    public var questions: [DNSQuestion]
    public var answers: [DNSRecord]

    public var isResponse: Bool { flags & 0x8000 != 0 }
    public var opcode: UInt8 { UInt8((flags >> 11) & 0xF) }
    public var recursionDesired: Bool { flags & 0x0100 != 0 }
    public var responseCode: UInt8 { UInt8(flags & 0xF) }

    public init(id: UInt16, flags: UInt16, questions: [DNSQuestion], answers: [DNSRecord] = []) {
        self.id = id
        self.flags = flags
        self.questions = questions
        self.answers = answers
    }

    /// Parses a whole message; throws ``DNSMessageError`` for anything malformed.
    public init(parsing bytes: [UInt8]) throws(DNSMessageError) {
        var reader = Reader(bytes: bytes)
        id = try reader.uint16()
        flags = try reader.uint16()
        let counts = [try reader.uint16(), try reader.uint16(), try reader.uint16(), try reader.uint16()]
        // A question takes at least 5 bytes and a record 11: larger counts cannot fit.
        let records = Int(counts[1]) + Int(counts[2]) + Int(counts[3])
        guard 12 + Int(counts[0]) * 5 + records * 11 <= bytes.count else { throw .truncated }
        questions = []
        for _ in 0..<counts[0] {
            questions.append(DNSQuestion(name: try reader.name(), type: try reader.uint16(), class: try reader.uint16()))
        }
        answers = []
        for section in 1...3 {
            for _ in 0..<counts[section] {
                let record = try reader.record()
                if section == 1 { answers.append(record) }
            }
        }
    }

    /// The message's ID from the first two bytes of `bytes`, nil when shorter.
    public static func id(of bytes: [UInt8]) -> UInt16? {
        bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : nil
    }

    /// The wire form: names uncompressed, except that an answer whose name is the first
    /// question's points at it (RFC 1035 §4.1.4).
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        for value in [id, flags, UInt16(questions.count), UInt16(answers.count), 0, 0] { out.append(value) }
        for question in questions {
            out += question.name.wire
            out.append(question.type)
            out.append(question.class)
        }
        for record in answers {
            if let first = questions.first, first.name.labels == record.name.labels {
                out += [0xC0, 12]
            } else {
                out += record.name.wire
            }
            out.append(record.type)
            out.append(record.class)
            out.append(UInt16(record.ttl >> 16))
            out.append(UInt16(record.ttl & 0xFFFF))
            out.append(UInt16(record.data.count))
            out += record.data
        }
        return out
    }

    /// The response to `query`: its ID, opcode and RD copied, QR and RA set, its
    /// questions echoed, `code`, and one A record (TTL ``answerTTL``) for each of
    /// `addresses` naming the first question. No addresses and `.noError` is NODATA.
    public static func response(to query: DNSMessage, code: ResponseCode, addresses: [IPv4Address] = []) -> DNSMessage {
        let flags = 0x8000 | (query.flags & 0x7800) | (query.flags & 0x0100) | 0x0080 | UInt16(code.rawValue)
        let answers = query.questions.first.map { question in
            addresses.map { DNSRecord(name: question.name, type: typeA, class: classIN, ttl: answerTTL, data: $0.bytes) }
        } ?? []
        return DNSMessage(id: query.id, flags: flags, questions: query.questions, answers: answers)
    }

    /// FORMERR for bytes that did not parse: the ID, opcode and RD of their header and no
    /// sections; nil when they are too short for a header or are themselves a response
    /// (answering one could start a loop between two servers).
    public static func formatError(replyingTo bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count >= 12, bytes[2] & 0x80 == 0 else { return nil }
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let header = DNSMessage(id: id(of: bytes) ?? 0, flags: flags & ~0x000F, questions: [])
        return response(to: header, code: .formatError).encoded()
    }
}

/// An IPv4 address (RFC 791 §3.2) in dotted-quad text and in the four bytes of an A
/// record's RDATA (RFC 1035 §3.4.1).
public struct IPv4Address: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// Parses `a.b.c.d` with each part 0–255 in decimal; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        self.bytes = bytes
    }

    /// The address in network byte order, as `in_addr.s_addr` holds it.
    public init(networkOrder value: UInt32) {
        let host = UInt32(bigEndian: value)
        bytes = [UInt8(host >> 24), UInt8((host >> 16) & 0xFF), UInt8((host >> 8) & 0xFF), UInt8(host & 0xFF)]
    }

    /// The address as `in_addr.s_addr` holds it.
    public var networkOrder: UInt32 {
        (UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])).bigEndian
    }

    public var description: String { bytes.map(String.init).joined(separator: ".") }
}

/// Reads the fields of a message, checking every bound.
private struct Reader {
    let bytes: [UInt8]
    var offset = 0

    mutating func uint16() throws(DNSMessageError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func record() throws(DNSMessageError) -> DNSRecord {
        let name = try name()
        let type = try uint16(), `class` = try uint16()
        let ttl = UInt32(try uint16()) << 16 | UInt32(try uint16())
        let length = Int(try uint16())
        guard offset + length <= bytes.count else { throw .truncated }
        defer { offset += length }
        return DNSRecord(name: name, type: type, class: `class`, ttl: ttl, data: Array(bytes[offset..<offset + length]))
    }

    /// A name at the current offset (RFC 1035 §4.1.4): pointers must point strictly
    /// before the pointer itself, so following them always ends; at most 127 are followed.
    mutating func name() throws(DNSMessageError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var jumps = 0
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0:
                if length == 0 {
                    if jumps == 0 { offset = position + 1 }
                    return try DNSName(labels: labels)
                }
                guard position + 1 + length <= bytes.count else { throw .truncated }
                wireLength += length + 1
                guard wireLength <= 255 else { throw .nameTooLong }
                labels.append(Array(bytes[position + 1..<position + 1 + length]))
                position += 1 + length
            case 0xC0:
                guard position + 2 <= bytes.count else { throw .truncated }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position, jumps < 127 else { throw .badPointer }
                if jumps == 0 { offset = position + 2 }
                jumps += 1
                position = target
            default:
                throw .badLabelType
            }
        }
    }
}

extension [UInt8] {
    /// Appends `value` big-endian (network byte order).
    fileprivate mutating func append(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }
}
