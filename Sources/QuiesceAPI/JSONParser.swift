/// A strict JSON parser (RFC 8259, as Python's `json` reads it): what the original framework
/// rejects, Quiesce rejects too, so a config cannot load on one and fail on the other. No
/// trailing commas, comments, single quotes, `NaN`, leading zeros, control characters in strings
/// or byte order mark; a duplicate key keeps its last value, as Python's does. Every error names
/// its line and column.
struct JSONParser {
    /// Deeper nesting is refused rather than risking the stack.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws(JSONValue.SyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw error("the file starts with a byte order mark (BOM); save it as UTF-8 without one")
        }
        skipWhitespace()
        guard index < bytes.count else { throw error("there is no JSON value: the text is empty") }
        let value = try parseValue()
        skipWhitespace()
        guard index == bytes.count else { throw error("unexpected \(found) after the end of the JSON value") }
        return value
    }

    private mutating func parseValue() throws(JSONValue.SyntaxError) -> JSONValue {
        guard let byte = peek else { throw error("the text ends where a value should be") }
        switch byte {
        case UInt8(ascii: "{"): return try nested { (parser) throws(JSONValue.SyntaxError) in try parser.parseObject() }
        case UInt8(ascii: "["): return try nested { (parser) throws(JSONValue.SyntaxError) in try parser.parseArray() }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "'"): throw error("strings take double quotes in JSON, not single quotes")
        case UInt8(ascii: "/"): throw error("JSON has no comments")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"):
            throw error("expected a value, found \(found) (JSON's words are true, false and null, in lowercase)")
        default: throw error("expected a value, found \(found)")
        }
    }

    private mutating func nested(
        _ parse: (inout JSONParser) throws(JSONValue.SyntaxError) -> JSONValue
    ) throws(JSONValue.SyntaxError) -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
        return try parse(&self)
    }

    private mutating func parseObject() throws(JSONValue.SyntaxError) -> JSONValue {
        index += 1
        // Gathered first and hashed once, into a dictionary of the right size.
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return .object([:])
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else {
                if peek == UInt8(ascii: "}") { throw error("a trailing comma before '}' is not JSON; remove it") }
                throw error("expected a key in double quotes, found \(found)")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else {
                throw error("expected ':' after the key \"\(key)\", found \(found)")
            }
            index += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(Dictionary(members) { _, last in last })
            default: throw error("expected ',' or '}' after the value of \"\(key)\", found \(found)")
            }
        }
    }

    private mutating func parseArray() throws(JSONValue.SyntaxError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "]") { throw error("a trailing comma before ']' is not JSON; remove it") }
            elements.append(try parseValue())
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return .array(elements)
            default: throw error("expected ',' or ']' after an array element, found \(found)")
            }
        }
    }

    private mutating func parseString() throws(JSONValue.SyntaxError) -> String {
        let start = index
        index += 1
        // Most strings have no escapes: they are taken whole, straight from the text.
        var end = index
        var highBits: UInt8 = 0
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20
        {
            highBits |= bytes[end]
            end += 1
        }
        if end < bytes.count && bytes[end] == UInt8(ascii: "\"") {
            // ASCII is valid UTF-8 as it is, and `String(decoding:)` takes it at once; the
            // validating initializer is generic and several times slower.
            let ascii = highBits < 0x80
            let text = bytes[index..<end].withUnsafeBufferPointer {
                ascii ? String(decoding: $0, as: UTF8.self) : String(validating: $0, as: UTF8.self)
            }
            guard let text else {
                index = start
                throw error("this string is not valid UTF-8")
            }
            index = end + 1
            return text
        }
        var utf8 = Array(bytes[index..<end])
        index = end
        while true {
            guard let byte = peek else {
                index = start
                throw error("this string is never closed with '\"'")
            }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    index = start
                    throw error("this string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &utf8)
            case 0..<0x20:
                throw error("a control character (byte \(byte)) inside a string must be escaped, e.g. \\n or \\t")
            default:
                utf8.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws(JSONValue.SyntaxError) {
        guard let byte = peek else { throw error("the text ends inside an escape sequence") }
        index += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"),
            UInt8(ascii: "/"): UInt8(ascii: "/"), UInt8(ascii: "b"): 8, UInt8(ascii: "f"): 12,
            UInt8(ascii: "n"): 10, UInt8(ascii: "r"): 13, UInt8(ascii: "t"): 9,
        ]
        if let replacement = simple[byte] {
            utf8.append(replacement)
            return
        }
        guard byte == UInt8(ascii: "u") else {
            index -= 2
            throw error("\\\(Character(Unicode.Scalar(byte))) is not a JSON escape")
        }
        var scalar = UInt32(try parseHex4())
        if (0xD800..<0xDC00).contains(scalar) {
            guard bytes[index...].starts(with: Array("\\u".utf8)) else { throw error("a lone UTF-16 surrogate") }
            index += 2
            let low = UInt32(try parseHex4())
            guard (0xDC00..<0xE000).contains(low) else { throw error("a UTF-16 surrogate pair is broken") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw error("a lone UTF-16 surrogate")
        }
        utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
    }

    private mutating func parseHex4() throws(JSONValue.SyntaxError) -> UInt16 {
        guard index + 4 <= bytes.count,
            let value = UInt16(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
        else { throw error("\\u takes four hex digits") }
        index += 4
        return value
    }

    private mutating func parseNumber() throws(JSONValue.SyntaxError) -> JSONValue {
        let start = index
        if peek == UInt8(ascii: "-") { index += 1 }
        guard let first = peek, isDigit(first) else { throw error("a number needs digits after '-'") }
        index += 1
        if first == UInt8(ascii: "0"), let next = peek, isDigit(next) {
            index = start
            throw error("a number cannot start with 0 (write 7, not 07)")
        }
        while let byte = peek, isDigit(byte) { index += 1 }
        var integral = true
        if peek == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard let byte = peek, isDigit(byte) else { throw error("a number needs digits after '.'") }
            while let byte = peek, isDigit(byte) { index += 1 }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard let byte = peek, isDigit(byte) else { throw error("a number needs digits in its exponent") }
            while let byte = peek, isDigit(byte) { index += 1 }
        }
        if integral, let value = Self.integer(bytes[start..<index]) { return .integer(value) }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            index = start
            throw error("the number \(text) is out of range")
        }
        return .number(value)
    }

    /// The integer an optional '-' and digits spell, or nil when it does not fit in 64 bits.
    private static func integer(_ text: ArraySlice<UInt8>) -> Int64? {
        let negative = text.first == UInt8(ascii: "-")
        var magnitude: UInt64 = 0
        for digit in text.dropFirst(negative ? 1 : 0) {
            let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflow || carry { return nil }
            magnitude = sum
        }
        return negative ? Int64(exactly: -Int128(magnitude)) : Int64(exactly: magnitude)
    }

    private mutating func literal(_ word: String, _ value: JSONValue) throws(JSONValue.SyntaxError) -> JSONValue {
        guard bytes[index...].starts(with: Array(word.utf8)) else {
            throw error("expected a value, found \(found) (JSON's words are true, false and null, in lowercase)")
        }
        index += word.utf8.count
        return value
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    /// What stands at the current position, for a message.
    private var found: String {
        guard let byte = peek else { return "the end of the text" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte \(byte)"
    }

    private func error(_ message: String) -> JSONValue.SyntaxError {
        var line = 1
        var column = 1
        for byte in bytes[..<min(index, bytes.count)] {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return JSONValue.SyntaxError(line: line, column: column, message: message)
    }
}

extension JSONValue {
    /// Malformed JSON: where, and what is wrong there.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var message: String

        public init(line: Int, column: Int, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String { "line \(line), column \(column): \(message)" }
    }
}
