import ArgumentParser
import QuiesceCoordinator

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract:
            "Check every selected VM's compliance: reachable, agent version, permission rules, drift from the last "
            + "push, predicted consistency.",
        discussion:
            "Recorded in the history. Exits 0 when every VM is compliant, 1 when one is not or cannot be reached, 2 "
            + "for an unusable inventory."
    )

    @OptionGroup var options: FleetOptions
    @OptionGroup var state: StateOptions

    @Flag(help: "Also list the compliant VMs.")
    var all = false

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let history = try state.history()
        let expected = try history.expectedFiles(for: vms.map(\.name))
        let (run, report) = try await history.record(fleet: options.fleetPath, targets: vms.count) {
            let progress = ProgressBar.fleetProgress("sweep", total: vms.count)
            defer { ProgressBar.clear(progress) }
            return await Sweep.run(
                vms, agents: options.agentClient(for: inventory), expected: expected, progress: progress)
        }
        try conclude(run, report, json: options.json) { report.text(all: all, style: .detect()) }
    }
}
