import ArgumentParser
import Foundation
import QuiesceCoordinator
import QuiesceSystem

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Take one consistent snapshot of a whole group of VMs.",
        discussion: """
            Preflight, pre-scripts everywhere, freeze everywhere, snapshot (each agent's provider, or the group's \
            snapshotCommand once), thaw everywhere, post-scripts everywhere. requireAll (the default) freezes \
            nobody unless every member can reach application consistency; bestEffort goes on without failed \
            members and labels the group with the weakest. Recorded in the history. Exits 0 when the group \
            snapshot succeeded, 1 when it did not, 2 for unusable input.
            """
    )

    @OptionGroup var options: FleetOptions
    @OptionGroup var state: HistoryOptions

    @Option(help: "Override the group's policy: requireAll or bestEffort.")
    var policy: FleetInventory.Group.Policy?

    @Option(help: "Also write the report as one self-contained HTML page with a timeline.")
    var report: String?

    func validate() throws {
        guard options.group.count == 1 else { throw ValidationError("name exactly one group with --group") }
    }

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        guard var group = inventory.groups[options.group[0]] else {
            throw UnusableInput(
                description: "quiesce snapshot: there is no group \(options.group[0]) in \(options.fleet)")
        }
        guard !vms.isEmpty else {
            throw UnusableInput(description: "quiesce snapshot: group \(group.name) has no VMs that the selectors pick")
        }
        if let policy { group.policy = policy }
        let snapshot = GroupSnapshot(
            group: group, members: vms, agents: options.agentClient(for: inventory, atLeast: vms.count))
        let timeline = report
        let (run, result, output) = try await state.history().record(
            fleet: options.fleetPath, targets: vms.count, { await snapshot.run() },
            renderingAlongside: rendering(json: options.json) {
                $0.text(style: .detect()) + (timeline.map { "timeline: \($0)\n" } ?? "")
            })
        if let path = report {
            do {
                try GroupTimelineHTML.render(result).write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                CurrentProcess.writeToStandardError(
                    "quiesce snapshot: cannot write the HTML report \(path): \(error.localizedDescription)\n")
            }
        }
        try conclude(run, result, output, json: options.json)
    }
}

extension FleetInventory.Group.Policy: ExpressibleByArgument {}
