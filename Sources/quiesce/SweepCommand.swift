import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Check every selected VM's compliance: reachable, agent version, permission rules, drift from the last push, predicted consistency.",
        discussion: "Recorded in the history. Exits 0 when every VM is compliant, 1 when one is not or cannot be reached, 2 for an unusable inventory."
    )

    @OptionGroup var options: FleetOptions
    @OptionGroup var state: StateOptions

    @Flag(help: "Also list the compliant VMs.")
    var all = false

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let history = try state.history()
        let expected = try history.expectedFiles(for: vms.map(\.name))
        let runId = try history.start(kind: .sweep, fleet: options.fleetPath, targets: vms.count)
        let progress = ProgressBar.fleetProgress("sweep", total: vms.count)
        let report = await Sweep.run(vms, agents: options.agentClient(for: inventory), expected: expected, progress: progress)
        ProgressBar.clear(progress)
        let summary = report.summary
        try history.finish(
            runId, status: summary.compliant == summary.total ? .succeeded : .failed,
            summary: "\(summary.compliant) of \(summary.total) compliant, \(summary.nonCompliant) not, \(summary.unreachable) unreachable",
            report: report,
            vms: report.vms.map { vm in
                HistoryVMResult(
                    vm: vm.name, status: vm.reachable ? (vm.compliant ? "compliant" : "nonCompliant") : "unreachable",
                    detail: vm.problems.first ?? "")
            })
        if options.json {
            try printJSON(report)
        } else {
            print(report.text(all: all, style: .detect()), terminator: "")
            print("recorded as run \(runId); `quiesce show \(runId)` shows it again")
        }
        if summary.compliant != summary.total { throw ExitCode.failure }
    }
}
