import ArgumentParser
import QuiesceCA
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
    @OptionGroup var state: HistoryOptions

    @Flag(help: "Also list the compliant VMs.")
    var all = false

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let history = try await state.history()
        let all = all
        let (run, report, output) = try await history.record(
            fleet: options.fleetPath, targets: vms.count,
            {
                let progress = ProgressBar.fleetProgress("sweep", total: vms.count)
                defer { ProgressBar.clear(progress) }
                var report = await Sweep.run(
                    vms, agents: options.agentClient(for: inventory),
                    expected: { try await history.expectedFiles(for: vms.map(\.name)) }, progress: progress)
                report.warnings += Self.ownCertificateWarnings(vms)
                return report
            }, renderingAlongside: rendering(json: options.json) { $0.text(all: all, style: .detect()) })
        try conclude(run, report, output, json: options.json)
    }

    /// The coordinator's own client certificates that the selected VMs are reached with, when
    /// near their end (an expired one would fail every call: the sweep shows it as unreachable).
    private static func ownCertificateWarnings(_ vms: [FleetInventory.VM]) -> [String] {
        let files = Set(vms.compactMap { $0.tls?.certificateFile })
        return files.sorted().compactMap { file in
            guard let summary = try? CertificateSummary.read(file) else { return nil }
            return Sweep.expiryWarning(
                summary.notAfter, of: "the coordinator's certificate \(file)", renew: "quiesce ca issue --coordinator")
        }
    }
}
