import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Push a plugin config and its scripts to the selected VMs.",
        discussion: """
            The config is checked with the agents' own loader before any VM is touched. Each VM gets the config, \
            then the scripts, with their SHA-256; a VM in a snapshot session is skipped and reported. With \
            --canary N the first N VMs get it first and must pass their compliance check, or nobody else gets it. \
            Recorded in the history. Exits 0 when every VM has the files, 1 when one does not, 2 for unusable files.
            """
    )

    @OptionGroup var options: FleetOptions
    @OptionGroup var state: StateOptions

    @Option(name: .customLong("plugin-config"), help: "The VMSnapshotScriptPluginConfig.json to push.")
    var pluginConfig: String

    @Option(help: "The pre-script, written where the config's preScriptLocation says.")
    var pre: String?

    @Option(help: "The post-script, written where the config's postScriptLocation says.")
    var post: String?

    @Option(help: "Push to this many VMs first and check them before the rest.")
    var canary = 0

    @Flag(help: "Check the files and list the targets; send nothing.")
    var dryRun = false

    func validate() throws {
        guard canary >= 0 else { throw ValidationError("--canary must be 0 or more") }
    }

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let bundle: PushBundle
        do {
            bundle = try PushBundle.load(pluginConfig: pluginConfig, preScript: pre, postScript: post)
        } catch {
            throw UnusableInput(description: "quiesce push: \(error)")
        }
        if dryRun {
            try show(Push.plan(bundle, to: vms, canary: canary))
            return
        }
        let history = try state.history()
        let runId = try history.start(kind: .push, fleet: options.fleetPath, targets: vms.count)
        let progress = ProgressBar.fleetProgress("push", total: vms.count)
        let report = await Push.run(bundle, to: vms, canary: canary, agents: options.agentClient(for: inventory), progress: progress)
        ProgressBar.clear(progress)
        let summary = report.summary
        let now = Date()
        let pushed = report.vms.filter { $0.status == .pushed || $0.status == .unchanged }.flatMap { vm in
            bundle.files.map { PushedFile(vm: vm.name, role: $0.role.rawValue, sha256: $0.sha256, pushedAt: now) }
        }
        try history.finish(
            runId, status: report.succeeded ? .succeeded : .failed,
            summary: "\(summary.pushed + summary.unchanged) of \(summary.total) have the files"
                + (report.canary?.passed == false ? "; the canary failed" : ""),
            report: report,
            vms: report.vms.map { HistoryVMResult(vm: $0.name, status: $0.status.rawValue, detail: $0.problem ?? "") },
            pushed: pushed)
        try show(report)
        if !options.json { print("recorded as run \(runId); `quiesce show \(runId)` shows it again") }
        if !report.succeeded { throw ExitCode.failure }
    }

    private func show(_ report: PushReport) throws {
        if options.json {
            try printJSON(report)
        } else {
            print(report.text(style: .detect()), terminator: "")
        }
    }
}
