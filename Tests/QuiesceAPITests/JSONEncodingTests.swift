import Foundation
import QuiesceAPI
import Testing

/// `QuiesceJSON.encode` writes what Foundation's `JSONEncoder` writes with the same settings,
/// byte for byte: over every shape `Codable` can take, over random trees, and over real reports.
@Suite("JSON encoding")
struct JSONEncodingTests {
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
        let started = Date(timeIntervalSince1970: 1_800_000_000.125_25)
        let report = CycleReport(
            sessionId: "s", status: .succeeded, consistency: .fileSystemConsistent, configState: .configured,
            startedAt: started, finishedAt: started.addingTimeInterval(0.5),
            errors: [ReportedError(code: .preScriptTimeout, phase: .preScript, message: "m")], warnings: [],
            preScript: .skipped(path: "/pre"), postScript: .skipped(path: nil), plugins: [],
            freeze: FreezeReport(enabled: true, mounts: ["/"], heldThroughSnapshot: true, frozenMs: 12.5),
            snapshot: SnapshotReport(taken: true, provider: "none", usable: true))
        try expectSameAsFoundation(report)
        let check = try QuiesceJSON.decoder().decode(CheckReport.self, from: Data(Self.complianceAnswer.utf8))
        try expectSameAsFoundation(check)
        try expectSameAsFoundation([check, check])
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
        let alphabet = Array("aAzZ09_-\"\\/\n\t\u{1}\u{7f}é😀 .")
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
