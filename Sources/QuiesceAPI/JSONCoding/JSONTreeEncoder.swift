import FoundationEssentials

/// The `Encoder` behind `QuiesceJSON.encode`: builds a `JSONNode` tree that `JSONNodeWriter` writes out.
///
/// One encoder serves a whole value: a nested value is encoded into the same instance, its
/// result taken and the previous one put back, so a report of ten thousand VMs costs no encoder
/// per value. Dates are written as `QuiesceJSON.timestamp`, data as Base64 and URLs as their text,
/// as Foundation's `JSONEncoder` writes them with the strategies Quiesce uses.
final class JSONTreeEncoder: Encoder {
    /// Where the value being encoded sits.
    var path: JSONPath
    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What the value being encoded has produced so far; nil before it asks for a container.
    var result: JSONNode?

    init(path: JSONPath = .root) {
        self.path = path
    }

    /// The node of a whole document; a value that encodes nothing is refused, as Foundation refuses it.
    func root<T: Encodable>(_ value: T) throws -> JSONNode {
        if let simple = try Self.simpleNode(value, at: { .root }) { return simple }
        try value.encode(to: self)
        guard let result else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return result
    }

    /// The node of `value`, encoded at `path`.
    func node<T: Encodable>(_ value: T, at path: @autoclosure () -> JSONPath) throws -> JSONNode {
        if let simple = try Self.simpleNode(value, at: path) { return simple }
        let saved = (result, self.path)
        result = nil
        self.path = path()
        defer { (result, self.path) = saved }
        try value.encode(to: self)
        // A value inside that asks for no container is an empty object, as Foundation writes it.
        return result ?? .object(JSONObjectStorage())
    }

    /// The types written without their own `encode(to:)`: strings, and the Foundation types whose
    /// encoding the strategies change.
    private static func simpleNode<T: Encodable>(_ value: T, at path: () -> JSONPath) throws -> JSONNode? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Date.self { return .string(QuiesceJSON.timestamp(value as! Date)) }
        if T.self == Data.self { return .string((value as! Data).base64EncodedString()) }
        if T.self == URL.self { return .string((value as! URL).absoluteString) }
        if T.self == Double.self { return try .double(value as! Double, at: path().keys) }
        return nil
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let storage: JSONObjectStorage
        if case .object(let existing) = result {
            storage = existing
        } else {
            storage = JSONObjectStorage()
            result = .object(storage)
        }
        return KeyedEncodingContainer(JSONKeyedContainer(encoder: self, storage: storage, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let storage: JSONArrayStorage
        if case .array(let existing) = result {
            storage = existing
        } else {
            storage = JSONArrayStorage()
            result = .array(storage)
        }
        return JSONUnkeyedContainer(encoder: self, storage: storage, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(encoder: self)
    }
}

/// An object's members, in the order encoded; sorted when written.
final class JSONObjectStorage {
    var members: [(key: String, value: JSONNode)] = []
}

/// An array's elements.
final class JSONArrayStorage {
    var elements: [JSONNode] = []
}

/// A value as `JSONNodeWriter` writes it.
enum JSONNode {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case float(Float)
    case string(String)
    case object(JSONObjectStorage)
    case array(JSONArrayStorage)
    /// What a `superEncoder` was given, read when written.
    case deferred(JSONTreeEncoder)

    /// JSON has no NaN or infinity: refused, as Foundation refuses them.
    static func double(_ value: Double, at path: @autoclosure () -> [any CodingKey]) throws -> JSONNode {
        guard value.isFinite else { throw notFinite(value, "Double", path()) }
        return .double(value)
    }

    static func float(_ value: Float, at path: @autoclosure () -> [any CodingKey]) throws -> JSONNode {
        guard value.isFinite else { throw notFinite(value, "Float", path()) }
        return .float(value)
    }

    private static func notFinite(_ value: Any, _ type: String, _ path: [any CodingKey]) -> EncodingError {
        .invalidValue(
            value, .init(codingPath: path, debugDescription: "Unable to encode \(type).\(value) directly in JSON."))
    }
}

struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONTreeEncoder
    let storage: JSONObjectStorage
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }

    private func add(_ node: JSONNode, _ key: Key) { storage.members.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { add(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { add(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { add(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        add(try .double(value, at: codingPath + [key]), key)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        add(try .float(value, at: codingPath + [key]), key)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { add(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { add(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { add(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { add(.integer(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { add(.integer(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { add(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { add(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { add(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { add(.unsigned(UInt64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { add(.unsigned(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        add(try encoder.node(value, at: .key(key, path)), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObjectStorage()
        add(.object(nested), key)
        return KeyedEncodingContainer(
            JSONKeyedContainer<NestedKey>(encoder: encoder, storage: nested, path: .key(key, path)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONArrayStorage()
        add(.array(nested), key)
        return JSONUnkeyedContainer(encoder: encoder, storage: nested, path: .key(key, path))
    }

    mutating func superEncoder() -> any Encoder {
        let sub = JSONTreeEncoder(path: .key(JSONSuperKey(), path))
        storage.members.append((JSONSuperKey().stringValue, .deferred(sub)))
        return sub
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let sub = JSONTreeEncoder(path: .key(key, path))
        add(.deferred(sub), key)
        return sub
    }
}

struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let encoder: JSONTreeEncoder
    let storage: JSONArrayStorage
    let path: JSONPath
    var codingPath: [any CodingKey] { path.keys }
    var count: Int { storage.elements.count }

    /// The path of the element about to be added.
    private var next: JSONPath { .key(JSONIndexKey(intValue: storage.elements.count), path) }
    private func add(_ node: JSONNode) { storage.elements.append(node) }

    mutating func encodeNil() throws { add(.null) }
    mutating func encode(_ value: Bool) throws { add(.bool(value)) }
    mutating func encode(_ value: String) throws { add(.string(value)) }
    mutating func encode(_ value: Double) throws { add(try .double(value, at: next.keys)) }
    mutating func encode(_ value: Float) throws { add(try .float(value, at: next.keys)) }
    mutating func encode(_ value: Int) throws { add(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { add(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { add(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { add(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { add(.integer(value)) }
    mutating func encode(_ value: UInt) throws { add(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { add(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { add(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { add(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { add(.unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { add(try encoder.node(value, at: next)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey>
    {
        let path = next
        let nested = JSONObjectStorage()
        add(.object(nested))
        return KeyedEncodingContainer(JSONKeyedContainer<NestedKey>(encoder: encoder, storage: nested, path: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = next
        let nested = JSONArrayStorage()
        add(.array(nested))
        return JSONUnkeyedContainer(encoder: encoder, storage: nested, path: path)
    }

    mutating func superEncoder() -> any Encoder {
        let sub = JSONTreeEncoder(path: next)
        add(.deferred(sub))
        return sub
    }
}

struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let encoder: JSONTreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    private func set(_ node: JSONNode) { encoder.result = node }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(try .double(value, at: codingPath)) }
    mutating func encode(_ value: Float) throws { set(try .float(value, at: codingPath)) }
    mutating func encode(_ value: Int) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.integer(value)) }
    mutating func encode(_ value: UInt) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt8) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.unsigned(UInt64(value))) }
    mutating func encode(_ value: UInt64) throws { set(.unsigned(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { set(try encoder.node(value, at: encoder.path)) }
}

/// A coding path as a list from the leaf up: a nested value costs one link, and the array
/// `codingPath` wants is built only when asked for (in an error, mostly).
indirect enum JSONPath {
    case root
    case key(any CodingKey, JSONPath)

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .key(let key, let parent) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }
}

/// The key of an array element in a coding path.
struct JSONIndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}

/// The key a keyed container's `superEncoder()` writes under.
struct JSONSuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
}
