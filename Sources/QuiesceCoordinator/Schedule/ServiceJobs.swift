import Foundation

/// The jobs an inventory schedules: each group with a `schedule` takes its snapshot, and the
/// whole fleet is swept on `sweepSchedule`. Each run is recorded in the history as the same
/// command by hand would record it, so `quiesce history` and `show` list both alike.
public enum ServiceJobs {
    public static func make(
        _ inventory: FleetInventory, fleetPath: String, store: HistoryStore, agents: AgentClient
    ) -> [ScheduledJob] {
        var jobs: [ScheduledJob] = []
        for group in inventory.groups.values.sorted(by: { $0.name < $1.name }) {
            guard let schedule = group.schedule else { continue }
            let members = inventory.vms.filter { $0.groups.contains(group.name) }
            jobs.append(
                ScheduledJob(name: "snapshot/\(group.name)", schedule: schedule) {
                    guard !members.isEmpty else {
                        return .init(succeeded: false, runId: nil, summary: "group \(group.name) has no VMs")
                    }
                    let snapshot = GroupSnapshot(group: group, members: members, agents: agents)
                    return await record(store, fleetPath: fleetPath, targets: members.count) { await snapshot.run() }
                })
        }
        if let schedule = inventory.sweepSchedule {
            let vms = inventory.vms
            jobs.append(
                ScheduledJob(name: "sweep", schedule: schedule) {
                    let expected: Sweep.Expected
                    do {
                        expected = try store.expectedFiles(for: vms.map(\.name))
                    } catch {
                        return .init(succeeded: false, runId: nil, summary: "\(error)")
                    }
                    return await record(store, fleetPath: fleetPath, targets: vms.count) {
                        await Sweep.run(vms, agents: agents, expected: expected)
                    }
                })
        }
        return jobs
    }

    private static func record<Report: RecordedReport>(
        _ store: HistoryStore, fleetPath: String, targets: Int, _ work: () async -> Report
    ) async -> ScheduledJob.Outcome {
        do {
            let (run, report) = try await store.record(fleet: fleetPath, targets: targets, work)
            return .init(succeeded: report.succeeded, runId: run, summary: report.historySummary)
        } catch {
            return .init(succeeded: false, runId: nil, summary: "\(error)")
        }
    }
}
