import Foundation
import QuiesceAPI

extension HistoryStore {
    /// Deletes the group's successful snapshot runs that `policy` lets go of (by start time,
    /// the newest always kept), with their per-VM rows; failed runs are left to
    /// `history --prune-days`. Returns the ids deleted (or that would be, with `dryRun`).
    public func pruneSnapshotRuns(
        group: String, policy: RetentionPolicy, dryRun: Bool, now: Date
    ) async throws(HistoryError) -> [Int64] {
        let ofGroup = try await read(
            "SELECT id, startedAt FROM run WHERE kind = 'snapshot' AND groupName = ? AND status = 'succeeded'",
            [.text(group)]
        ).map { row throws(HistoryError) in
            RetentionPolicy.Snapshot(id: String(try row.integer("id")), takenAt: try row.date("startedAt"))
        }
        let expired = policy.expired(ofGroup, now: now).compactMap { Int64($0.id) }
        guard !dryRun, !expired.isEmpty else { return expired }
        let ids = expired.map(String.init).joined(separator: ",")
        try await transaction([
            SQLStatement("DELETE FROM runVM WHERE runId IN (\(ids))"),
            SQLStatement("DELETE FROM run WHERE id IN (\(ids))"),
        ])
        return expired
    }
}
