import FoundationEssentials

/// Request bodies are strict: malformed JSON, a wrong type or an unknown field is a 400 that
/// names it, and nothing runs.
public enum StrictRequestBody {
    /// Why a body was refused: 400 `BadRequest`.
    public struct Refusal: APIError, Equatable {
        public var message: String
        public var httpStatus: Int { 400 }
        public var code: ErrorCode { .badRequest }

        init(_ message: String) { self.message = message }
    }

    /// The body as `T`; nil for an empty body when `optional`. `nestedKeys` are the keys allowed
    /// in the objects under some top-level keys.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], allowedKeys: Set<String>, nestedKeys: [String: Set<String>] = [:],
        optional: Bool = false
    )
        throws(Refusal) -> T?
    {
        if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if optional { return nil }
            throw Refusal(
                "this request needs a JSON body with \(allowedKeys.sorted().joined(separator: ", "))")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw Refusal("the body is not valid JSON")
        }
        guard case .object(let keys) = value else {
            throw Refusal("the body must be a JSON object, found \(value.typeName)")
        }
        try refuseUnknown(keys.keys, allowed: allowedKeys, in: "this request")
        for (key, allowed) in nestedKeys {
            if case .object(let nested) = keys[key] { try refuseUnknown(nested.keys, allowed: allowed, in: "`\(key)`") }
        }
        do {
            return try QuiesceJSON.decode(T.self, from: value)
        } catch let DecodingError.typeMismatch(expected, context), let DecodingError.valueNotFound(expected, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw Refusal("`\(path)` must be \(expected)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw Refusal("the field `\(key.stringValue)` is required")
        } catch {
            throw Refusal("the body does not fit this request: \(error)")
        }
    }

    private static func refuseUnknown(
        _ keys: Dictionary<String, JSONValue>.Keys, allowed: Set<String>, in place: String
    ) throws(Refusal) {
        let unknown = keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw Refusal(
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "`\($0)`" }.joined(separator: ", ")); "
                    + "\(place) takes \(allowed.sorted().map { "`\($0)`" }.joined(separator: ", "))")
        }
    }
}
