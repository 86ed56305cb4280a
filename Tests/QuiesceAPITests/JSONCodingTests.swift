import Foundation
import QuiesceAPI
import Testing

/// `QuiesceJSON.encode` writes what Foundation's `JSONEncoder` writes with the same settings,
/// byte for byte, and `QuiesceJSON.decode` reads what Foundation's `JSONDecoder` reads, failing
/// where it fails: over every shape `Codable` can take, over random trees, and over real reports.
@Suite("JSON coding")
struct JSONCodingTests {
    private func expectSameAsFoundation<T: Encodable>(
        _ value: T, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        for pretty in [false, true] {
            let ours = String(decoding: try QuiesceJSON.encode(value, pretty: pretty), as: UTF8.self)
            let foundation = String(
                decoding: try QuiesceJSON.foundationEncoder(pretty: pretty).encode(value), as: UTF8.self)
            #expect(ours == foundation, "pretty: \(pretty)", sourceLocation: sourceLocation)
        }
    }

    /// Every container and scalar a `Codable` type can use.
    struct EveryShape: Encodable {
        enum Kind: Encodable {
            case plain
            case labelled(name: String, count: Int)
            case unlabelled(Double)
        }

        var oddKeys = OddKeys()
        var escapes =
            "quote \" backslash \\ slash / newline \n return \r tab \t \u{8}\u{c}\u{0}\u{1b}\u{7f} é 😀 \u{2028}"
        var integers: [Int64] = [0, -1, 42, Int64.min, Int64.max]
        var unsigned: [UInt64] = [0, UInt64.max]
        var small: [Int8] = [Int8.min, Int8.max]
        var doubles: [Double] = [
            0, -0.0, 1, 0.1, 1e16, 1e15, 1.5e-7, 123_456_789, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        var floats: [Float] = [0.1, 1e20, 16_777_216]
        var flags = [true, false]
        var missing: String? = nil
        var present: Int? = 7
        var nothing: [String?] = [nil, "x"]
        var emptyObject: [String: Int] = [:]
        var emptyArray: [[Int]] = [[]]
        var byName = ["b": 2, "a": 1, "B": 3, "": 0]
        var byNumber = [10: "ten", 9: "nine"]
        var date = Date(timeIntervalSince1970: 1_800_000_000.123_456)
        var dates = [Date(timeIntervalSince1970: 0)]
        var data = Data([0, 1, 2, 250])
        var url = URL(string: "https://example.com/a/b?c=d")!
        var kinds: [Kind] = [.plain, .labelled(name: "n", count: 2), .unlabelled(2.5)]
        var custom = Custom()
    }

    /// Keys declared in one order and sorted in another: capitals before lower case, `_` after
    /// capitals, non-ASCII last.
    struct OddKeys: Encodable {
        var last = "first declared"
        var upper = 1
        var underscore = 2
        var nonASCII = 3

        enum CodingKeys: String, CodingKey {
            case last = "zeta"
            case upper = "Capital"
            case underscore = "b_"
            case nonASCII = "ä"
        }
    }

    /// Hand-written coding: nested containers, super encoders, a key encoded twice, and a value
    /// that asks for no container.
    struct Custom: Encodable {
        enum Keys: String, CodingKey { case nested, list, repeated, parent, nothing }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .nested)
            try nested.encode("inner", forKey: .list)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var inList = list.nestedContainer(keyedBy: Keys.self)
            try inList.encodeNil(forKey: .nothing)
            var deeper = list.nestedUnkeyedContainer()
            try deeper.encode("x")
            try list.encode(Nothing())
            try container.encode(1, forKey: .repeated)
            try container.encode(2, forKey: .repeated)
            var parent = container.superEncoder(forKey: .parent).container(keyedBy: Keys.self)
            try parent.encode(true, forKey: .nothing)
            try container.encode(Nothing(), forKey: .nothing)
            _ = container.superEncoder()
        }
    }

    @Test func everyShapeIsWrittenAsFoundationWritesIt() throws {
        try expectSameAsFoundation(EveryShape())
        try expectSameAsFoundation("a top-level string")
        try expectSameAsFoundation(42)
        try expectSameAsFoundation([String]())
        #expect(throws: EncodingError.self) { try QuiesceJSON.encode(Custom.Nothing()) }
        #expect(throws: EncodingError.self) { try QuiesceJSON.foundationEncoder().encode(Custom.Nothing()) }
    }

    @Test func randomTreesAreWrittenAsFoundationWritesThem() throws {
        var random = SplitMix64(seed: 0x5eed)
        for _ in 0..<300 {
            try expectSameAsFoundation(Self.tree(depth: 4, random: &random))
        }
    }

    @Test func realReportsAreWrittenAsFoundationWritesThem() throws {
        let report = CycleReport.sample(startedAt: Date(timeIntervalSince1970: 1_800_000_000.125_25))
        try expectSameAsFoundation(report)
        let check = try QuiesceJSON.decode(CheckReport.self, from: Self.complianceAnswer.utf8)
        try expectSameAsFoundation(check)
        try expectSameAsFoundation([check, check])
    }

    @Test func randomTreesDecodeAsFoundationDecodesThem() throws {
        var random = SplitMix64(seed: 0xdec0de)
        for _ in 0..<300 {
            let bytes = try QuiesceJSON.encode(Self.tree(depth: 4, random: &random))
            let ours = try QuiesceJSON.decode(JSONValue.self, from: bytes)
            let foundation = try QuiesceJSON.foundationDecoder().decode(JSONValue.self, from: Data(bytes))
            #expect(ours == foundation, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func realReportsDecodeAsFoundationDecodesThem() throws {
        let bytes = Array(Self.complianceAnswer.utf8)
        let ours = try QuiesceJSON.decode(CheckReport.self, from: bytes)
        let foundation = try QuiesceJSON.foundationDecoder().decode(CheckReport.self, from: Data(bytes))
        #expect(try QuiesceJSON.encode(ours) == QuiesceJSON.encode(foundation))
        #expect(ours.files.count == 3 && ours.agent?.hostname == "vm")
    }

    /// Each wrong document fails in both decoders the same way: the same kind of error at the
    /// same coding path.
    @Test(arguments: [
        #"{"a": 1, "b": "x", "c": [1, 2], "d": 1.5}"#,  // fits
        #"{"a": "1", "b": "x", "c": [], "d": 1}"#,  // a string for an integer
        #"{"a": 1.5, "b": "x", "c": [], "d": 1}"#,  // a fraction for an integer
        #"{"a": 1.0, "b": "x", "c": [1e2], "d": 1}"#,  // whole numbers written as fractions fit
        #"{"a": 1, "b": 2, "c": [], "d": 1}"#,  // a number for a string
        #"{"a": 1, "b": "x", "c": [1, null], "d": 1}"#,  // null in an array of integers
        #"{"a": 1, "b": "x", "c": [300], "d": 1}"#,  // does not fit in UInt8
        #"{"a": 1, "b": "x", "d": 1}"#,  // a key missing
        #"{"a": 1, "b": null, "c": [], "d": 1}"#,  // null for a string
        #"{"a": 1, "b": "x", "c": {}, "d": 1}"#,  // an object for an array
        #"[1]"#,  // an array for an object
        #"{"a": 1, "b": "x", "c": [], "d": true, "e": "2027-01-15T08:00:00Z"}"#,  // a bool for a double
        #"{"a": 1, "b": "x", "c": [], "d": 1, "e": "yesterday"}"#,  // not a time
        #"{"a": 1, "b": "x", "c": [], "d": 1, "e": "2027-01-15T08:00:00.5Z", "f": "AQID"}"#,  // optional ones present
    ])
    func wrongDocumentsFailAsInFoundation(json: String) {
        struct Shape: Decodable {
            var a: Int
            var b: String
            var c: [UInt8]
            var d: Double
            var e: Date?
            var f: Data?
        }
        func outcome(_ decode: () throws -> Shape) -> String {
            do {
                let shape = try decode()
                let optionals = [shape.e.map { "\($0)" }, shape.f.map { "\($0)" }].map { $0 ?? "nil" }
                return "ok \(shape.a) \(shape.b) \(shape.c) \(shape.d) \(optionals)"
            } catch let error as DecodingError {
                switch error {
                case .typeMismatch(_, let context): return "typeMismatch at \(Self.path(context))"
                case .valueNotFound(_, let context): return "valueNotFound at \(Self.path(context))"
                case .keyNotFound(let key, let context):
                    return "keyNotFound \(key.stringValue) at \(Self.path(context))"
                // Foundation names no path for a number that does not fit; this decoder does.
                case .dataCorrupted: return "dataCorrupted"
                @unknown default: return "\(error)"
                }
            } catch {
                return "\(error)"
            }
        }
        let ours = outcome { try QuiesceJSON.decode(Shape.self, from: json.utf8) }
        let foundation = outcome { try QuiesceJSON.foundationDecoder().decode(Shape.self, from: Data(json.utf8)) }
        #expect(ours == foundation)
    }

    @Test func aNumberThatDoesNotFitIsNamedByItsPath() {
        struct Shape: Decodable { var sizes: [UInt8] }
        do {
            _ = try QuiesceJSON.decode(Shape.self, from: #"{"sizes": [1, 300]}"#.utf8)
            Issue.record("300 fit in a UInt8")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(Self.path(context) == "sizes.1")
            #expect(context.debugDescription == "Parsed JSON number <300> does not fit in UInt8.")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func malformedJSONNamesItsLineAndColumn() {
        do {
            _ = try QuiesceJSON.decode([Int].self, from: "[1,\n 2,]".utf8)
            Issue.record("a trailing comma was read")
        } catch {
            #expect(JSONValue.describe(error) == "line 2, column 4: a trailing comma before ']' is not JSON; remove it")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }

    @Test func numbersJSONCannotHoldAreRefusedWithTheirPath() throws {
        struct Holder: Encodable { var values: [Double] }
        do {
            _ = try QuiesceJSON.encode(Holder(values: [1, .nan]))
            Issue.record("NaN was encoded")
        } catch EncodingError.invalidValue(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["values", "Index 1"])
        }
        #expect(throws: EncodingError.self) { try QuiesceJSON.encode(["x": Float.infinity]) }
    }

    private static func tree(depth: Int, random: inout SplitMix64) -> JSONValue {
        let scalars: [JSONValue] = [
            .null, .bool(random.next() % 2 == 0), .integer(Int64(bitPattern: random.next())),
            .number(Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)),
            .number(Double(Int64(bitPattern: random.next()) % 1_000_000) / 1000),
            .string(randomString(&random)),
        ]
        let pick = Int(random.next() % (depth > 0 ? 8 : 6))
        switch pick {
        case 6:
            return .array((0..<Int(random.next() % 5)).map { _ in tree(depth: depth - 1, random: &random) })
        case 7:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int(random.next() % 6) {
                members[randomString(&random)] = tree(depth: depth - 1, random: &random)
            }
            return .object(members)
        default:
            return scalars[pick]
        }
    }

    private static func randomString(_ random: inout SplitMix64) -> String {
        let alphabet = Array("aAzZ09_-\"\\/\n\t\u{1}\u{7f}é😀 .{}[]:,")
        return String((0..<Int(random.next() % 8)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
    }

    private static let complianceAnswer = #"""
        {"agent":{"frozen":false,"hostname":"vm","version":"0.1.0"},"configState":"configured","errors":[],
        "files":[{"exists":false,"path":"/etc/azure/VMSnapshotPluginHost.conf","role":"pluginHost","violations":[]},
        {"exists":true,"mode":"0600","ownerUid":0,"path":"/etc/azure/VMSnapshotScriptPluginConfig.json",
        "role":"pluginConfig","sha256":"e4b556f6d489020040fdccf1999d27c94b35b94cc9156579b53478122ee1fb69",
        "violations":[]},{"exists":true,"mode":"0755","ownerUid":1000,"path":"/etc/azure/pre.sh","role":"preScript",
        "sha256":"b1e3c0fe49231caf57a58adc0ae987a77c733ada3134f2b24add546d73f24ba0",
        "violations":["/etc/azure/pre.sh has mode 0755"]}],
        "freeze":{"discovered":true,"enabled":true,"excluded":[{"fileSystemType":"vfat","mountPoint":"/boot",
        "reason":"not a Linux file system","source":"/dev/sda1"}],"mounts":["/"]},
        "plugins":[{"configPath":"/etc/azure/VMSnapshotScriptPluginConfig.json","continueBackupOnFailure":true,
        "fsFreezeEnabled":true,"name":"ScriptRunner","postScript":"/etc/azure/post.sh","preScript":"/etc/azure/pre.sh",
        "timeoutSeconds":30}],"predictedConsistency":"fileSystemConsistent","reason":"r","snapshotProvider":"none",
        "warnings":[{"code":"UnknownConfigKey","message":"w","phase":"precheck"}]}
        """#
}
