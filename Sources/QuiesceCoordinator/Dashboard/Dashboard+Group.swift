import Foundation
import QuiesceAPI

extension Dashboard {
    /// `/groups/<name>`: its policy, members, schedule and next run, retention, the schedule's
    /// recent runs with their outcome and lateness, its recent snapshots with their consistency
    /// and skew, and the latest snapshot's timeline.
    public func group(_ name: String) async throws(HistoryError) -> Page {
        guard let group = inventory.groups[name] else {
            return notFound(
                "There is no group \(name) in \(fleetPath).",
                "Its groups are " + groupNames.map(HTML.groupLink).joined(separator: ", ") + ".")
        }
        let members = inventory.vms.filter { $0.groups.contains(name) }
        let snapshots = try await store.runs(kind: .snapshot, group: name, limit: 20, reports: false)
        let scheduled = try await store.scheduledRuns(job: "snapshot/\(name)", limit: 20)
        let retention =
            group.retention.map { policy in
                [policy.keepLast.map { "the last \($0)" }, policy.keepDays.map { "\($0) days" }].compactMap { $0 }
                    .joined(separator: " and ")
            } ?? "none: every snapshot is kept"
        let snapshotRows = snapshots.map { run in
            [
                HTML.runLink(run.id), HTML.time(run.startedAt), HTML.badge(run.status.rawValue),
                HTML.badge(run.consistency ?? ""), HTML.milliseconds(run.freezeSkewMs), HTML.milliseconds(run.frozenMs),
                HTML.escape(run.summary),
            ]
        }
        let scheduledRows = scheduled.map { run in
            [
                HTML.time(run.plannedAt), HTML.badge(run.state.rawValue),
                run.lateness.map { HTML.milliseconds($0 / .milliseconds(1)) } ?? "-", HTML.runLink(run.runId),
                HTML.escape(run.owner), HTML.escape(run.note),
            ]
        }
        var latest: GroupTimeline?
        if let id = snapshots.first?.id, let run = try await store.run(id) { latest = timelines.report(of: run) }
        return page(
            "Group \(name)",
            """
            <h1>Group \(HTML.escape(name))</h1>
            <table class="facts" id="group">
            <tr><td>Policy</td><td>\(group.policy.rawValue)</td></tr>
            <tr><td>Members</td><td>\(members.map { HTML.vmLink($0.name) }.joined(separator: " "))</td></tr>
            <tr><td>Next run</td><td id="next-run">\(nextRun(group.schedule))</td></tr>
            <tr><td>Retention</td><td>\(HTML.escape(retention))</td></tr>
            </table>
            <h2>Recent snapshots</h2>
            \(snapshotRows.isEmpty ? "<p>No snapshot of this group is recorded yet.</p>" : HTML.table(
                id: "snapshots",
                header: ["Run", "Started", "Result", "Consistency", "Freeze skew", "Longest frozen", "Summary"],
                rows: snapshotRows))
            <h2>Scheduled runs</h2>
            \(scheduledRows.isEmpty ? "<p>No scheduled run is recorded yet.</p>" : HTML.table(
                id: "scheduled", header: ["Planned", "Outcome", "Late by", "Run", "Coordinator", "Note"],
                rows: scheduledRows))
            <h2>Latest timeline</h2>
            \(latest.map { """
                <p>Run \(HTML.runLink(snapshots.first?.id)), \(HTML.time($0.startedAt)): cut \
                \($0.cut.shown ? "shown" : "not shown"), freeze skew \(
                    HTML.milliseconds(snapshots.first?.freezeSkewMs)).</p>
                \(GroupTimelineHTML.timeline($0))
                """ } ?? "<p>None yet.</p>")
            """)
    }
}
