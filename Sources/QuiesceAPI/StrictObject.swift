/// Reads the keys of one JSON object strictly, collecting every problem instead of stopping at
/// the first, so a user fixes a file in one go.
///
///     var object = StrictObject(json, what: "the plugin config")
///     let timeout = object.integer("timeoutInSeconds", minimum: 1) ?? 30
///     let unknown = object.unusedKeys    // warn or reject, the caller decides
public struct StrictObject {
    private let keys: [String: JSONValue]
    /// How problems name the object's keys, e.g. `"freeze."` for nested settings.
    private let keyPrefix: String
    public private(set) var problems: [String] = []
    /// The keys asked for that the object has: a handful, so a list, not a set to hash (an
    /// inventory of 10,000 VMs made a set per VM).
    private var used: [String] = []

    public init(_ value: JSONValue, keyPrefix: String = "", what: String) {
        self.keyPrefix = keyPrefix
        if case .object(let keys) = value {
            self.keys = keys
        } else {
            self.keys = [:]
            problems.append("\(what) must be a JSON object, found \(value.typeName) \(value.excerpt)")
        }
    }

    /// Keys present in the object that no accessor asked for, sorted.
    public var unusedKeys: [String] { keys.keys.filter { !used.contains($0) }.sorted() }

    /// Marks keys as known without reading them (accepted for compatibility, ignored).
    public mutating func accept(_ names: String...) { names.forEach { markUsed($0) } }

    public mutating func string(_ key: String, required: Bool = false) -> String? {
        value(key, required: required, expected: "a string") { if case .string(let text) = $0 { text } else { nil } }
    }

    public mutating func bool(_ key: String) -> Bool? {
        value(key, expected: "a boolean (true or false, without quotes)") {
            if case .bool(let flag) = $0 { flag } else { nil }
        }
    }

    public mutating func integer(_ key: String, minimum: Int) -> Int? {
        guard let number = value(key, expected: "an integer ≥ \(minimum)", { Self.int($0) }) else { return nil }
        guard number >= minimum else {
            problems.append("`\(keyPrefix)\(key)` must be an integer ≥ \(minimum), found \(number)")
            return nil
        }
        return number
    }

    public mutating func stringArray(_ key: String) -> [String]? {
        value(key, expected: "an array of strings") {
            guard case .array(let elements) = $0 else { return nil }
            let strings = elements.compactMap { element -> String? in
                if case .string(let text) = element { text } else { nil }
            }
            return strings.count == elements.count ? strings : nil
        }
    }

    /// A nested object, read with its own `StrictObject` whose problems are merged back.
    public mutating func object<T>(_ key: String, _ read: (inout StrictObject) -> T) -> T? {
        guard let raw = keys[key] else { return nil }
        markUsed(key)
        var nested = StrictObject(raw, keyPrefix: "\(keyPrefix)\(key).", what: "`\(keyPrefix)\(key)`")
        let result = read(&nested)
        problems += nested.problems
        problems += nested.unusedKeys.map { "unknown key `\(keyPrefix)\(key).\($0)`" }
        return result
    }

    /// An array of objects, each read with its own `StrictObject` named `key[index].`.
    public mutating func objectArray<T>(_ key: String, _ read: (Int, inout StrictObject) -> T) -> [T]? {
        guard let raw = keys[key] else { return nil }
        markUsed(key)
        guard case .array(let elements) = raw else {
            problems.append("`\(keyPrefix)\(key)` must be an array of objects, found \(raw.typeName) \(raw.excerpt)")
            return nil
        }
        return elements.enumerated().map { index, element in
            let name = "\(keyPrefix)\(key)[\(index)]"
            var nested = StrictObject(element, keyPrefix: name + ".", what: "`\(name)`")
            let result = read(index, &nested)
            problems += nested.problems
            problems += nested.unusedKeys.map { "unknown key `\(name).\($0)`" }
            return result
        }
    }

    /// An object whose keys are names and whose values are objects, each read in turn.
    public mutating func namedObjects<T>(_ key: String, _ read: (String, inout StrictObject) -> T) -> [T]? {
        guard let raw = keys[key] else { return nil }
        markUsed(key)
        guard case .object(let entries) = raw else {
            problems.append(
                "`\(keyPrefix)\(key)` must be an object of named entries, found \(raw.typeName) \(raw.excerpt)")
            return nil
        }
        return entries.keys.sorted().map { name in
            let path = "\(keyPrefix)\(key).\(name)"
            var nested = StrictObject(entries[name]!, keyPrefix: path + ".", what: "`\(path)`")
            let result = read(name, &nested)
            problems += nested.problems
            problems += nested.unusedKeys.map { "unknown key `\(path).\($0)`" }
            return result
        }
    }

    /// An object of string values, e.g. labels.
    public mutating func stringMap(_ key: String) -> [String: String]? {
        value(key, expected: "an object of strings") {
            guard case .object(let entries) = $0 else { return nil }
            var strings: [String: String] = [:]
            for (name, value) in entries {
                guard case .string(let text) = value else { return nil }
                strings[name] = text
            }
            return strings
        }
    }

    private mutating func markUsed(_ key: String) {
        if !used.contains(key) { used.append(key) }
    }

    /// The name problems use for this object's `key`.
    public func path(_ key: String) -> String { keyPrefix + key }

    public mutating func problem(_ text: String) { problems.append(text) }

    private mutating func value<T>(
        _ key: String, required: Bool = false, expected: String, _ convert: (JSONValue) -> T?
    ) -> T? {
        guard let raw = keys[key] else {
            if required { problems.append("required key `\(keyPrefix)\(key)` is missing; it must be \(expected)") }
            return nil
        }
        markUsed(key)
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
