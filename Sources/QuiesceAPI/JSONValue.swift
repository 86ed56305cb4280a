import FoundationEssentials

/// Any JSON value, kept with its exact type so loaders can be strict about types.
///
/// `Codable` alone cannot tell a user "key `timeoutInSeconds` is a string, expected an integer"
/// for every key at once; decoding to `JSONValue` first and checking each key by hand can.
///
///     let value = try JSONValue.parse(bytes)
///     guard case .object(let keys) = value else { ... }
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON type's name as a user would say it, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// A short rendering of the value for error messages (strings quoted, long values cut).
    public var excerpt: String {
        let text: String
        switch self {
        case .null: text = "null"
        case .bool(let value): text = String(value)
        case .integer(let value): text = String(value)
        case .number(let value): text = String(value)
        case .string(let value): text = "\"\(value)\""
        case .array(let values): text = "[\(values.count) elements]"
        case .object(let keys): text = "{\(keys.count) keys}"
        }
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// Parses UTF-8 JSON text strictly (`JSONParser`); malformed input throws a `SyntaxError`
    /// naming the line and column.
    public static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(Array(bytes))
        return try parser.parseDocument()
    }

    /// What is wrong with malformed JSON, without a decoder's type noise.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError, case .dataCorrupted(let context) = error {
            return context.debugDescription
        }
        return "\(error)"
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        case .object(let keys): try container.encode(keys)
        }
    }
}
