import ArgumentParser
import QuiesceAPI
import QuiesceAgent

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Run every pre-check without running anything; say which consistency the next backup would reach.",
        discussion:
            "Exits 0 when the next backup would be application consistent, 1 otherwise, 2 for unusable arguments or "
            + "settings."
    )

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let report = ComplianceCheck.run(settings: try options.load())
        try Output.print(report, json: options.json, text: ReportText.render)
        if report.predictedConsistency != .applicationConsistent { throw ExitCode.failure }
    }
}
