import ArgumentParser
import QuiesceAPI
import QuiesceAgent

struct RunOnceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-once",
        abstract: "Run one backup cycle: pre-scripts, freeze, snapshot, thaw, post-scripts.",
        discussion:
            "Exits 0 when the backup succeeded (at any consistency), 1 when it failed, 2 for unusable arguments or "
            + "settings."
    )

    @OptionGroup var options: SettingsOptions

    func run() async throws {
        let settings = try options.load()
        let report = await BackupCycle(
            settings: settings, freezeService: GuardFreezeService.forThisExecutable(settings: settings)
        ).run()
        try Output.print(report, json: options.json, text: ReportText.render)
        if report.status == .failed { throw ExitCode.failure }
    }
}
