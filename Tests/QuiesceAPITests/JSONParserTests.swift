import QuiesceAPI
import Testing

/// The strict parser reads what Python's `json` reads, and nothing else, saying where it stopped.
@Suite("Strict JSON")
struct JSONParserTests {
    private func parse(_ text: String) throws(JSONValue.SyntaxError) -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    private func failure(_ text: String) -> JSONValue.SyntaxError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func wellFormedValuesKeepTheirTypes() throws {
        let value = try parse(
            #"{"a": 1, "b": -2.5e1, "c": "x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "d": [true, false, null], "e": {}, "#
                + #""f": []}"#
        )
        guard case .object(let keys) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(keys["a"] == .integer(1))
        #expect(keys["b"] == .number(-25))
        #expect(keys["c"] == .string("x\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(keys["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(keys["e"] == .object([:]) && keys["f"] == .array([]))
        #expect(try parse(" 42 ") == .integer(42), "any value may stand alone, with whitespace around it")
        #expect(try parse("9223372036854775808") == .number(9_223_372_036_854_775_808), "too big for Int64")
        #expect(try parse(#"{"k": 1, "k": 2}"#) == .object(["k": .integer(2)]), "the last duplicate wins, as in Python")
    }

    @Test func trailingCommasAreRefusedWithTheirPlace() {
        #expect(
            failure("{\n  \"a\": 1,\n}")
                == .init(line: 3, column: 1, message: "a trailing comma before '}' is not JSON; remove it"))
        #expect(
            failure("[1, 2,]")
                == .init(line: 1, column: 7, message: "a trailing comma before ']' is not JSON; remove it"))
    }

    @Test func whatPythonRefusesIsRefused() {
        let refused: [(String, String)] = [
            ("", "there is no JSON value"),
            ("{\"a\": 1} x", "unexpected 'x' after the end"),
            ("// note\n{}", "JSON has no comments"),
            ("{'a': 1}", "expected a key in double quotes"),
            ("['a']", "double quotes"),
            ("[NaN]", "expected a value, found 'N'"),
            ("[Infinity]", "expected a value"),
            ("[01]", "cannot start with 0"),
            ("[1.]", "digits after '.'"),
            ("[-]", "digits after '-'"),
            ("[1e]", "exponent"),
            ("[True]", "true, false and null"),
            ("[\"a\tb\"]", "control character"),
            ("[\"\\x41\"]", "is not a JSON escape"),
            ("[\"\\ud800\"]", "lone UTF-16 surrogate"),
            ("[\"\\u12\"]", "four hex digits"),
            ("[\"open", "never closed"),
            ("{\"a\" 1}", "expected ':' after the key \"a\""),
            ("{\"a\": 1 \"b\": 2}", "expected ',' or '}' after the value of \"a\""),
            ("[1 2]", "expected ',' or ']'"),
            ("\u{FEFF}{}", "byte order mark"),
            ("[1e999]", "out of range"),
        ]
        for (text, expected) in refused {
            let message = failure(text)?.message ?? "accepted"
            #expect(message.contains(expected), "\(text.debugDescription): \(message)")
        }
    }

    @Test func invalidUTF8InAStringIsRefused() {
        var bytes = Array(#"["a"#.utf8)
        bytes += [0xC3, 0x28]
        bytes += Array(#""]"#.utf8)
        #expect(throws: JSONValue.SyntaxError.self) { try JSONValue.parse(bytes) }
    }

    @Test func nestingIsBoundedInsteadOfExhaustingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(deep)?.message.contains("nested more than") == true)
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(failure(fine) == nil)
    }

    @Test func linesAndColumnsCountCharactersNotBytes() {
        let error = failure("{\"é\": 1,\n \"ü\": @}")
        #expect(error?.line == 2 && error?.column == 7, "\(String(describing: error))")
    }
}
