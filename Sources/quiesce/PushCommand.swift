import ArgumentParser
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
    @OptionGroup var state: HistoryOptions

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
            let plan = Push.plan(bundle, to: vms, canary: canary)
            if options.json { try printJSON(plan) } else { print(plan.text(style: .detect()), terminator: "") }
            return
        }
        let (run, report, output) = try await state.history().record(
            fleet: options.fleetPath, targets: vms.count,
            {
                let progress = ProgressBar.fleetProgress("push", total: vms.count)
                defer { ProgressBar.clear(progress) }
                return await Push.run(
                    bundle, to: vms, canary: canary, agents: options.agentClient(for: inventory), progress: progress)
            }, renderingAlongside: rendering(json: options.json) { $0.text(style: .detect()) })
        try conclude(run, report, output, json: options.json)
    }
}
