import FoundationEssentials

/// The one JSON encoding used on the wire and in reports: sorted keys, ISO 8601 times in UTC
/// with microseconds (`2026-12-03T10:00:00.123456Z`), so reports diff cleanly and freeze skews
/// under a millisecond are measured, not rounded away.
///
/// Readers that take milliseconds keep working: RFC 3339 allows any number of fraction digits,
/// and the decoder takes any (the three that earlier agents wrote included).
public enum QuiesceJSON {
    /// `value` as JSON. The bytes are those of Foundation's `JSONEncoder` with these settings,
    /// written by an encoder of Quiesce's own in about half the time: an agent encodes an answer
    /// per request, and a coordinator a report of every VM (`quiesce-bench json-coding`).
    public static func encode(_ value: some Encodable, pretty: Bool = false) throws -> [UInt8] {
        let node = try JSONTreeEncoder().root(value)
        var writer = JSONNodeWriter()
        writer.write(node)
        return pretty ? indented(writer.bytes) : writer.bytes
    }

    /// What `encode` wrote without `pretty`, laid out as with it: for a value encoded once and
    /// both kept and shown.
    public static func indented(_ compact: [UInt8]) -> [UInt8] {
        JSONIndenter.indent(compact)
    }

    /// Foundation's encoder with the same settings: what `encode` is checked and measured against.
    public static func foundationEncoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// `type` from JSON, parsed strictly (`JSONParser`: its errors name the line and column) and
    /// decoded by Quiesce's own decoder, a little faster than Foundation's.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: [], debugDescription: error.description, underlyingError: error))
        }
        return try decode(type, from: value)
    }

    /// `type` from JSON already parsed.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoder.decode(type, from: value, at: .root)
    }

    /// Foundation's decoder with the same settings: what `decode` is checked and measured against.
    public static func foundationDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = date(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO 8601 time, found \"\(text)\"")
            }
            return date
        }
        return decoder
    }

    /// An RFC 3339 time, with or without a fraction of a second.
    public static func date(_ text: String) -> Date? {
        RFC3339.utcDate(text) ?? (try? Date(text, strategy: timestampStyle))
            ?? (try? Date(text, strategy: wholeSecondsStyle))
    }

    /// `date` as the wire writes it, to the microsecond.
    public static func timestamp(_ date: Date) -> String {
        if let fast = RFC3339.utcString(date) { return fast }
        let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
        let seconds = (microseconds / 1_000_000).rounded(.down)
        let fraction = String(Int(microseconds - seconds * 1_000_000))
        let whole = Date(timeIntervalSince1970: seconds).formatted(wholeSecondsStyle)
        return "\(whole.dropLast()).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)Z"
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let wholeSecondsStyle = Date.ISO8601FormatStyle()
}
