import ArgumentParser
import QuiesceAPI
import QuiesceAgent

struct ThawAllCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thaw-all",
        abstract: "Thaw every candidate mount and every mount a freeze guard may have left frozen.",
        discussion:
            "Safe at any time: a mount that is not frozen is left as it is. Exits 0 when nothing is left frozen, 1 "
            + "when a thaw failed."
    )

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let report = ThawAll.run(settings: try options.load())
        try Output.print(report, json: options.json, text: ReportText.render)
        if report.mounts.contains(where: { $0.result == .failed }) || !report.errors.isEmpty { throw ExitCode.failure }
    }
}
