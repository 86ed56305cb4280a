import FoundationEssentials
import NIOHTTP1
import QuiesceAPI

/// Request bodies are strict: malformed JSON, a wrong type or an unknown field is a 400 that
/// names it, and nothing runs.
enum StrictRequestBody {
    static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], allowedKeys: Set<String>, optional: Bool = false
    )
        throws(HTTPError) -> T?
    {
        if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            if optional { return nil }
            throw HTTPError(
                .badRequest, .badRequest,
                "this request needs a JSON body with \(allowedKeys.sorted().joined(separator: ", "))")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw HTTPError(.badRequest, .badRequest, "the body is not valid JSON")
        }
        guard case .object(let keys) = value else {
            throw HTTPError(.badRequest, .badRequest, "the body must be a JSON object, found \(value.typeName)")
        }
        let unknown = keys.keys.filter { !allowedKeys.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw HTTPError(
                .badRequest, .badRequest,
                "unknown field\(unknown.count == 1 ? "" : "s") \(unknown.map { "`\($0)`" }.joined(separator: ", ")); "
                    + "this request takes \(allowedKeys.sorted().map { "`\($0)`" }.joined(separator: ", "))")
        }
        do {
            return try QuiesceJSON.decoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.typeMismatch(expected, context), let DecodingError.valueNotFound(expected, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw HTTPError(.badRequest, .badRequest, "`\(path)` must be \(expected)")
        } catch let DecodingError.keyNotFound(key, _) {
            throw HTTPError(.badRequest, .badRequest, "the field `\(key.stringValue)` is required")
        } catch {
            throw HTTPError(.badRequest, .badRequest, "the body does not fit this request: \(error)")
        }
    }
}
