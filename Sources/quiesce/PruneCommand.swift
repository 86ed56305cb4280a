import ArgumentParser
import QuiesceAPI
import QuiesceCoordinator

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Carry out a group's retention: delete the snapshots it lets go on each member.",
        discussion: """
            Each member's agent deletes, origin by origin, the snapshots of its btrfs or lvm provider that \
            the group's `retention` lets go (keep the last N and every one younger than D days; the newest \
            is always kept); members whose provider keeps nothing on the VM are `notManaged`. Once every \
            member has, the group's successful snapshot runs the same rule lets go leave the history. \
            `quiesce serve` does this after each scheduled snapshot. Recorded in the history. Exits 0 when \
            every member pruned, 1 when one did not, 2 for unusable input.
            """
    )

    @OptionGroup var options: FleetOptions
    @OptionGroup var state: HistoryOptions

    @Flag(help: "List what would be deleted, delete nothing.")
    var dryRun = false

    func validate() throws {
        guard options.group.count == 1 else { throw ValidationError("name exactly one group with --group") }
    }

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let name = options.group[0]
        guard let group = inventory.groups[name] else {
            throw UnusableInput(description: "quiesce prune: there is no group \(name) in \(options.fleet)")
        }
        guard let retention = group.retention else {
            throw UnusableInput(
                description: "quiesce prune: group \(name) has no `retention`; give it one in \(options.fleet), "
                    + #"e.g. "retention": {"keepLast": 7, "keepDays": 30}"#)
        }
        let history = try await state.history()
        let agents = options.agentClient(for: inventory)
        let (run, report, output) = try await history.record(
            fleet: options.fleetPath, targets: vms.count,
            {
                await SnapshotPrune.run(
                    group: name, policy: retention, members: vms, agents: agents, history: history, dryRun: dryRun)
            }, renderingAlongside: rendering(json: options.json) { $0.text() })
        try conclude(run, report, output, json: options.json)
    }
}
