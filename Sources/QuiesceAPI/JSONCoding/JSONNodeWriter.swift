/// Writes a `JSONNode` tree as Foundation's `JSONEncoder` writes it with `.sortedKeys` and
/// `.withoutEscapingSlashes`: keys in UTF-8 byte order, numbers as Swift prints them without a
/// trailing `.0`, only `"`, `\` and control characters escaped, no space between tokens (laid out
/// by `JSONIndenter` when asked). Byte for byte the same, so reports, digests and diffs do not
/// change with the encoder.
struct JSONNodeWriter {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(1024)
    }

    mutating func write(_ node: JSONNode) {
        switch node {
        case .null: append("null")
        case .bool(let value): append(value ? "true" : "false")
        case .integer(let value): writeInteger(value)
        case .unsigned(let value): writeUnsigned(value)
        case .double(let value): writeNumber(value.description)
        case .float(let value): writeNumber(value.description)
        case .string(let value): writeString(value)
        case .object(let storage): writeObject(storage.members)
        case .array(let storage): writeArray(storage.elements)
        case .deferred(let encoder): write(encoder.result ?? .object(JSONObjectStorage()))
        }
    }

    private mutating func writeObject(_ members: [(key: String, value: JSONNode)]) {
        bytes.append(UInt8(ascii: "{"))
        for (position, index) in Self.sortedUniqueKeys(members).enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            writeString(members[index].key)
            bytes.append(UInt8(ascii: ":"))
            write(members[index].value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func writeArray(_ elements: [JSONNode]) {
        bytes.append(UInt8(ascii: "["))
        for (position, element) in elements.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            write(element)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The members' indexes in key order; of a key encoded twice, the last, as a dictionary keeps it.
    static func sortedUniqueKeys(_ members: [(key: String, value: JSONNode)]) -> [Int] {
        var order = Array(members.indices)
        order.sort { left, right in
            let (a, b) = (members[left].key, members[right].key)
            return a == b ? left < right : a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        var unique: [Int] = []
        unique.reserveCapacity(order.count)
        for (position, index) in order.enumerated()
        where position + 1 == order.count || members[order[position + 1]].key != members[index].key {
            unique.append(index)
        }
        return unique
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func writeInteger(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            writeUnsigned(value.magnitude)
        } else {
            writeUnsigned(UInt64(value))
        }
    }

    private mutating func writeUnsigned(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var remaining = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
            } while remaining > 0
            bytes.append(contentsOf: digits[start..<20])
        }
    }

    /// Swift's shortest round-trip text, without the `.0` of a whole number, as Foundation writes it.
    private mutating func writeNumber(_ text: String) {
        var utf8 = Substring(text).utf8
        if utf8.count > 2 && utf8.hasSuffix(".0".utf8) { utf8 = utf8.dropLast(2) }
        bytes.append(contentsOf: utf8)
    }

    private mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = value
        text.withUTF8 { utf8 in
            var clean = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                escape(byte)
                clean = index + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case 0x22: bytes.append(UInt8(ascii: "\""))
        case 0x5C: bytes.append(UInt8(ascii: "\\"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        default:
            let hex = Array("0123456789abcdef".utf8)
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(hex[Int(byte >> 4)])
            bytes.append(hex[Int(byte & 0xF)])
        }
    }
}

extension Substring.UTF8View {
    fileprivate func hasSuffix(_ suffix: String.UTF8View) -> Bool {
        count >= suffix.count && self.suffix(suffix.count).elementsEqual(suffix)
    }
}
