import Foundation
import QuiesceAPI
import Testing

@Suite("Wire format")
struct WireFormatTests {
    @Test func jsonValueKeepsExactTypes() throws {
        let value = try JSONValue.parse(Array(#"{"a": true, "b": 1, "c": 1.5, "d": "x", "e": [null], "f": {}}"#.utf8))
        guard case .object(let keys) = value else {
            Issue.record("expected an object")
            return
        }
        #expect(keys["a"] == .bool(true))
        #expect(keys["b"] == .integer(1))
        #expect(keys["c"] == .number(1.5))
        #expect(keys["d"] == .string("x"))
        #expect(keys["e"] == .array([.null]))
        #expect(keys["f"] == .object([:]))
        #expect(keys["a"]?.typeName == "boolean" && keys["b"]?.typeName == "integer")
        #expect(throws: (any Error).self) { try JSONValue.parse(Array("{".utf8)) }
    }

    @Test func theFrameworksCodesAreSpelledAsTheOriginalsWithTheirNumbers() {
        let expected: [(ErrorCode, String, Int)] = [
            (.preScriptExecutionFailed, "Pre-ScriptExecutionFailed", 300),
            (.postScriptExecutionFailed, "Post-ScriptExecutionFailed", 301),
            (.preScriptNotFound, "Pre-ScriptNotFound", 302),
            (.postScriptNotFound, "Post-ScriptNotFound", 303),
            (.incorrectPluginhostFile, "IncorrectPluginhostFile", 304),
            (.incorrectJSONConfigFile, "IncorrectJSONConfigFile", 305),
            (.insufficientPermissionForPreScript, "InsufficientPermissionforPre-Script", 306),
            (.insufficientPermissionForPostScript, "InsufficientPermissionforPost-Script", 307),
            (.preScriptTimeout, "Pre-ScriptTimeout", 308),
            (.postScriptTimeout, "Post-ScriptTimeout", 309),
        ]
        for (code, name, number) in expected {
            #expect(code.rawValue == name)
            #expect(code.legacyNumber == number)
        }
        #expect(ErrorCode.fsFreezeFailed.legacyNumber == nil)
    }

    @Test func consistencyOrdersByQuality() {
        #expect(
            [Consistency.crashConsistent, .applicationConsistent, .none, .fileSystemConsistent].min()
                == Consistency.none)
        #expect(Consistency.applicationConsistent > .fileSystemConsistent)
        #expect(Consistency.fileSystemConsistent > .crashConsistent)
    }

    @Test func reportsRoundTripWithMicrosecondTimestamps() throws {
        let started = Date(timeIntervalSince1970: 1_800_000_000.125_25)
        let report = CycleReport.sample(startedAt: started)
        let data = Data(try QuiesceJSON.encode(report))
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""startedAt":"2027-01-15T08:00:00.125250Z""#))
        #expect(text.contains(#""legacyCode":308"#))
        let decoded = try QuiesceJSON.decode(CycleReport.self, from: data)
        #expect(abs(decoded.startedAt.timeIntervalSince(started)) < 0.000_001)
        #expect(decoded.errors == report.errors)
        #expect(decoded.freeze.frozenMs == 12.5)
    }

    @Test func timestampsKeepMicrosecondsAtTheEdges() throws {
        for (seconds, text) in [
            (1_800_000_000.0, "2027-01-15T08:00:00.000000Z"), (1_800_000_000.999_999_6, "2027-01-15T08:00:01.000000Z"),
            (1_800_000_000.000_001, "2027-01-15T08:00:00.000001Z"), (-0.5, "1969-12-31T23:59:59.500000Z"),
        ] {
            #expect(QuiesceJSON.timestamp(Date(timeIntervalSince1970: seconds)) == text)
        }
    }

    /// Earlier agents wrote milliseconds; a coordinator reading their reports must not refuse them.
    @Test func millisecondAndMicrosecondTimesBothDecode() throws {
        struct Stamp: Codable { var at: Date }
        let old = try QuiesceJSON.decode(Stamp.self, from: #"{"at":"2027-01-15T08:00:00.125Z"}"#.utf8)
        let new = try QuiesceJSON.decode(Stamp.self, from: #"{"at":"2027-01-15T08:00:00.125375Z"}"#.utf8)
        #expect(abs(new.at.timeIntervalSince(old.at) - 0.000_375) < 0.000_000_5)
        #expect(throws: DecodingError.self) {
            try QuiesceJSON.decode(Stamp.self, from: #"{"at":"15/01/2027"}"#.utf8)
        }
    }
}

extension CycleReport {
    /// A succeeded file-system-consistent cycle with one error, half a second long.
    static func sample(startedAt started: Date) -> CycleReport {
        CycleReport(
            sessionId: "s", status: .succeeded, consistency: .fileSystemConsistent, configState: .configured,
            startedAt: started, finishedAt: started.addingTimeInterval(0.5),
            errors: [ReportedError(code: .preScriptTimeout, phase: .preScript, message: "m")], warnings: [],
            preScript: .skipped(path: "/pre"), postScript: .skipped(path: nil), plugins: [],
            freeze: FreezeReport(enabled: true, mounts: ["/"], heldThroughSnapshot: true, frozenMs: 12.5),
            snapshot: SnapshotReport(taken: true, provider: "none", usable: true))
    }
}
