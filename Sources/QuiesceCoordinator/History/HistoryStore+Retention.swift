import Foundation
import GRDB
import QuiesceAPI

extension HistoryStore {
    /// Deletes the group's successful snapshot runs that `policy` lets go of (by start time,
    /// the newest always kept), with their per-VM rows; failed runs are left to
    /// `history --prune-days`. Returns the ids deleted (or that would be, with `dryRun`).
    public func pruneSnapshotRuns(
        group: String, policy: RetentionPolicy, dryRun: Bool, now: Date
    ) throws(HistoryError) -> [Int64] {
        let ofGroup = try read { db in
            try HistoryRun.filter(Column("kind") == HistoryRun.Kind.snapshot.rawValue)
                .filter(Column("groupName") == group)
                .filter(Column("status") == HistoryRun.Status.succeeded.rawValue).fetchAll(db)
        }
        let expired = policy.expired(
            ofGroup.compactMap { run in run.id.map { RetentionPolicy.Snapshot(id: String($0), takenAt: run.startedAt) }
            },
            now: now
        ).compactMap { Int64($0.id) }
        guard !dryRun, !expired.isEmpty else { return expired }
        try write { db in
            let ids = expired.map(String.init).joined(separator: ",")
            try db.execute(sql: "DELETE FROM runVM WHERE runId IN (\(ids))")
            try db.execute(sql: "DELETE FROM run WHERE id IN (\(ids))")
        }
        return expired
    }
}
