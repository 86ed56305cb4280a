import Foundation
import QuiesceAPI

/// The jobs an inventory schedules: each group with a `schedule` takes its snapshot (then, if it
/// worked, carries out the group's `retention`), and the whole fleet is swept on
/// `sweepSchedule`. Each run is recorded in the history as the same command by hand would record
/// it, so `quiesce history` and `show` list both alike, and raises its events (`EventRules`,
/// against the same job's previous report) through `events`.
public enum ServiceJobs {
    public static func make(
        _ inventory: FleetInventory, fleetPath: String, store: HistoryStore, agents: AgentClient,
        events: EventPublisher? = nil
    ) -> [ScheduledJob] {
        var jobs: [ScheduledJob] = []
        for group in inventory.groups.values.sorted(by: { $0.name < $1.name }) {
            guard let schedule = group.schedule else { continue }
            let members = inventory.vms.filter { $0.groups.contains(group.name) }
            jobs.append(
                ScheduledJob(
                    name: "snapshot/\(group.name)", schedule: schedule,
                    takeOver: { run in
                        await takeOver(run, group: group, members: members, agents: agents, events: events)
                    }
                ) { run in
                    guard !members.isEmpty else {
                        return .init(succeeded: false, runId: nil, summary: "group \(group.name) has no VMs")
                    }
                    let previous = await store.latestReport(
                        GroupSnapshotReport.self, kind: .snapshot, group: group.name)
                    let session = GroupSnapshot.newSessionId(group: group.name)
                    await run.noteSession(session)
                    let snapshot = GroupSnapshot(group: group, members: members, agents: agents, sessionId: session)
                    let (taken, report) = await record(store, fleetPath: fleetPath, targets: members.count) {
                        await snapshot.run()
                    }
                    if let report {
                        await events?.publish(EventRules.afterSnapshot(report, previous: previous, runId: taken.runId))
                    }
                    // Retention after a snapshot that worked: a failing group keeps what it has.
                    guard taken.succeeded, let retention = group.retention else { return taken }
                    let (pruned, _) = await record(store, fleetPath: fleetPath, targets: members.count) {
                        await SnapshotPrune.run(
                            group: group.name, policy: retention, members: members, agents: agents, history: store)
                    }
                    return .init(
                        succeeded: taken.succeeded && pruned.succeeded, runId: taken.runId,
                        summary: "\(taken.summary); retention: \(pruned.summary)")
                })
        }
        if let schedule = inventory.sweepSchedule {
            let vms = inventory.vms
            jobs.append(
                ScheduledJob(name: "sweep", schedule: schedule) { _ in
                    let previous = await store.latestReport(SweepReport.self, kind: .sweep)
                    let (swept, report) = await record(store, fleetPath: fleetPath, targets: vms.count) {
                        await Sweep.run(
                            vms, agents: agents, expected: { try await store.expectedFiles(for: vms.map(\.name)) })
                    }
                    if let report {
                        await events?.publish(EventRules.afterSweep(report, previous: previous, runId: swept.runId))
                    }
                    return swept
                })
        }
        return jobs
    }

    /// A snapshot run whose coordinator died: its group session finished on every member (thaw,
    /// post-scripts) and `snapshotInterrupted` raised, since whether a backup was taken is unknown.
    private static func takeOver(
        _ run: ScheduledRun, group: FleetInventory.Group, members: [FleetInventory.VM], agents: AgentClient,
        events: EventPublisher?
    ) async -> String {
        var done = "no group session was open yet"
        if let session = run.session {
            let released = await GroupSnapshot.release(
                session: session, members: members, agents: agents, reason: "its coordinator (\(run.owner)) is gone",
                deadline: .seconds(group.deadlines.finishSeconds))
            done = "session \(session) released: \(released)"
        }
        await events?.publish([
            FleetEvent(
                kind: .snapshotInterrupted, group: group.name, runId: run.runId,
                message: "group \(group.name): the snapshot planned for \(HistoryRun.timestamp(run.plannedAt)) was "
                    + "interrupted, its backup unknown: \(run.note)",
                details: [done])
        ])
        return done
    }

    private static func record<Report: RecordedReport>(
        _ store: HistoryStore, fleetPath: String, targets: Int, _ work: () async -> Report
    ) async -> (ScheduledJob.Outcome, Report?) {
        do {
            let (run, report) = try await store.record(fleet: fleetPath, targets: targets, work)
            return (.init(succeeded: report.succeeded, runId: run, summary: report.historySummary), report)
        } catch {
            return (.init(succeeded: false, runId: nil, summary: "\(error)"), nil)
        }
    }
}

extension HistoryStore {
    /// The newest finished report of `kind` (of `group`'s runs only, if given), among the last 200
    /// such runs; nil when there is none or the store cannot be read (events are then judged
    /// without it). Runs are listed without their reports and only the one needed is read.
    public func latestReport<Report: Decodable>(
        _ type: Report.Type, kind: HistoryRun.Kind, group: String? = nil
    ) async -> Report? {
        guard let runs = try? await runs(kind: kind, group: group, limit: 200, reports: false) else { return nil }
        for listed in runs {
            guard let id = listed.id, let report = try? await run(id)?.decodedReport(Report.self) else { continue }
            return report
        }
        return nil
    }
}
