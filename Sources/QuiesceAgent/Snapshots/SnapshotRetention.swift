import QuiesceAPI

/// Which snapshots `prune --keep N` deletes: for each origin, all but the newest N.
public enum SnapshotRetention {
    public static func toDelete(_ snapshots: [SnapshotRecord], keep: Int) -> [SnapshotRecord] {
        Dictionary(grouping: snapshots, by: \.origin).values.flatMap { group in
            group.sorted { $0.createdAt > $1.createdAt }.dropFirst(keep)
        }.sorted { ($0.origin, $0.createdAt) < ($1.origin, $1.createdAt) }
    }
}
