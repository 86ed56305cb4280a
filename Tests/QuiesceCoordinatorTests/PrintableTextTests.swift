import Testing

@testable import QuiesceCoordinator

/// What agents say reaches the operator's terminal as text, never as terminal commands.
@Suite("Printable text")
struct PrintableTextTests {
    @Test func controlCharactersAreShownNotObeyed() {
        let hostile = "ok\u{1B}]0;pwned\u{07}\u{1B}[2Jgone\r\u{9B}31m\nnext\tline"
        #expect(hostile.printable == "ok\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jgone\\u{d}\\u{9b}31m\nnext\tline")
        #expect("grüße ✓".printable == "grüße ✓")
    }

    @Test func aSweepReportPrintsAnAgentsEscapesHarmlessly() {
        var vm = SweepReport.VM(name: "db-1", address: "127.0.0.1:7710", reachable: true, compliant: false)
        vm.agentVersion = "0.1.0\u{1B}[8m"
        vm.problems = ["pre.sh said \u{1B}]0;owned\u{07}"]
        let text = SweepReport(vms: [vm]).text(all: true, style: .plain)
        #expect(!text.contains("\u{1B}") && !text.contains("\u{07}"), "\(text.debugDescription)")
        #expect(text.contains("pre.sh said \\u{1b}]0;owned\\u{7}"))
    }
}
