import Foundation
import QuiesceAPI
import Testing

@testable import QuiesceCoordinator

@Suite("Sweep drift and output")
struct SweepDriftTests {
    private let files = [
        FileCheck(
            role: .preScript, path: "/etc/quiesce/pre.sh", exists: true, ownerUid: 0, mode: "0700", violations: [],
            sha256: "aaaa")
    ]

    @Test func aFileThatChangedSincePushIsNamedWithItsOrigin() {
        let problems = Sweep.drift(
            ["preScript": "bbbb"], expected: ["preScript": .init(sha256: "aaaa", origin: "push run 4 at T")],
            files: files)
        #expect(problems.count == 1)
        #expect(problems[0].role == "preScript")
        #expect(problems[0].problem.contains("/etc/quiesce/pre.sh changed since push run 4 at T"))
    }

    @Test func matchingFilesAndUnpushedFilesAreNotDrift() {
        #expect(
            Sweep.drift(
                ["preScript": "aaaa"], expected: ["preScript": .init(sha256: "aaaa", origin: "o")], files: files
            ).isEmpty)
        #expect(Sweep.drift(["preScript": "aaaa"], expected: [:], files: files).isEmpty)
    }

    @Test func aPushedFileThatIsGoneIsDrift() {
        let problems = Sweep.drift(
            [:], expected: ["postScript": .init(sha256: "cccc", origin: "push run 1")], files: files)
        #expect(problems.first?.role == "postScript" && problems.first?.problem.contains("missing") == true)
    }

    @Test func colouredTablesLineUpLikePlainOnes() {
        let style = TerminalStyle(colour: true)
        let coloured = TextTable.render([["A", "B"], [style.bad("NOT COMPLIANT"), "x"], ["ok", "y"]])
        let plain = TextTable.render([["A", "B"], ["NOT COMPLIANT", "x"], ["ok", "y"]])
        #expect(coloured.contains("\u{1B}[1;31m"))
        #expect(
            coloured.replacingOccurrences(of: "\u{1B}[1;31m", with: "").replacingOccurrences(of: "\u{1B}[0m", with: "")
                == plain)
        #expect(TerminalStyle.plain.bad("x") == "x")
    }
}
