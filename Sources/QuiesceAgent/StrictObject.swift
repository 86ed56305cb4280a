import QuiesceAPI

/// Reads the keys of one JSON object strictly, collecting every problem instead of stopping at
/// the first, so a user fixes a file in one go.
///
///     var object = try StrictObject(json, context: "plugin config")
///     let timeout = object.integer("timeoutInSeconds", minimum: 1) ?? 30
///     let unknown = object.unusedKeys    // warn or reject, the caller decides
struct StrictObject {
    private let keys: [String: JSONValue]
    /// How problems name the object's keys, e.g. `"freeze."` for nested settings.
    private let keyPrefix: String
    private(set) var problems: [String] = []
    private var used: Set<String> = []

    init(_ value: JSONValue, keyPrefix: String = "", what: String) {
        self.keyPrefix = keyPrefix
        if case .object(let keys) = value {
            self.keys = keys
        } else {
            self.keys = [:]
            problems.append("\(what) must be a JSON object, found \(value.typeName) \(value.excerpt)")
        }
    }

    /// Keys present in the object that no accessor asked for, sorted.
    var unusedKeys: [String] { keys.keys.filter { !used.contains($0) }.sorted() }

    /// Marks keys as known without reading them (accepted for compatibility, ignored).
    mutating func accept(_ names: String...) { used.formUnion(names) }

    mutating func string(_ key: String, required: Bool = false) -> String? {
        value(key, required: required, expected: "a string") { if case .string(let text) = $0 { text } else { nil } }
    }

    mutating func bool(_ key: String) -> Bool? {
        value(key, expected: "a boolean (true or false, without quotes)") {
            if case .bool(let flag) = $0 { flag } else { nil }
        }
    }

    mutating func integer(_ key: String, minimum: Int) -> Int? {
        guard let number = value(key, expected: "an integer ≥ \(minimum)", { Self.int($0) }) else { return nil }
        guard number >= minimum else {
            problems.append("`\(keyPrefix)\(key)` must be an integer ≥ \(minimum), found \(number)")
            return nil
        }
        return number
    }

    mutating func stringArray(_ key: String) -> [String]? {
        value(key, expected: "an array of strings") {
            guard case .array(let elements) = $0 else { return nil }
            let strings = elements.compactMap { element -> String? in
                if case .string(let text) = element { text } else { nil }
            }
            return strings.count == elements.count ? strings : nil
        }
    }

    /// A nested object, read with its own `StrictObject` whose problems are merged back.
    mutating func object<T>(_ key: String, _ read: (inout StrictObject) -> T) -> T? {
        guard let raw = keys[key] else { return nil }
        used.insert(key)
        var nested = StrictObject(raw, keyPrefix: "\(keyPrefix)\(key).", what: "`\(keyPrefix)\(key)`")
        let result = read(&nested)
        problems += nested.problems
        problems += nested.unusedKeys.map { "unknown key `\(keyPrefix)\(key).\($0)`" }
        return result
    }

    mutating func problem(_ text: String) { problems.append(text) }

    private mutating func value<T>(
        _ key: String, required: Bool = false, expected: String, _ convert: (JSONValue) -> T?
    ) -> T? {
        used.insert(key)
        guard let raw = keys[key] else {
            if required { problems.append("required key `\(keyPrefix)\(key)` is missing; it must be \(expected)") }
            return nil
        }
        guard let converted = convert(raw) else {
            problems.append("`\(keyPrefix)\(key)` must be \(expected), found \(raw.typeName) \(raw.excerpt)")
            return nil
        }
        return converted
    }

    private static func int(_ value: JSONValue) -> Int? {
        switch value {
        case .integer(let number): Int(exactly: number)
        case .number(let number): Int(exactly: number)
        default: nil
        }
    }
}
