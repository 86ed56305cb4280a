import FoundationEssentials

/// How many of a group's snapshots to keep: the newest `keepLast`, and every one younger than
/// `keepDays`; a snapshot either rule keeps is kept, and the newest is never given up, so a fleet
/// whose backups have been failing for weeks still has its last good one.
public struct RetentionPolicy: Sendable, Equatable {
    public var keepLast: Int?
    public var keepDays: Int?

    /// Why a policy was refused.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(keepLast: Int? = nil, keepDays: Int? = nil) throws(Invalid) {
        guard keepLast != nil || keepDays != nil else {
            throw Invalid(description: "a retention needs `keepLast` (how many), `keepDays` (how old), or both")
        }
        if let keepLast, keepLast < 1 {
            throw Invalid(description: "`keepLast` is \(keepLast); keep at least 1 (the newest is never deleted)")
        }
        if let keepDays, keepDays < 1 {
            throw Invalid(description: "`keepDays` is \(keepDays); give at least 1 day")
        }
        self.keepLast = keepLast
        self.keepDays = keepDays
    }

    /// A snapshot as retention sees it.
    public struct Snapshot: Sendable, Equatable {
        public var id: String
        public var takenAt: Date

        public init(id: String, takenAt: Date) {
            self.id = id
            self.takenAt = takenAt
        }
    }

    /// The snapshots to delete now, oldest first.
    public func expired(_ snapshots: [Snapshot], now: Date) -> [Snapshot] {
        let newestFirst = snapshots.sorted { $0.takenAt > $1.takenAt }
        let cutoff = keepDays.map { now.addingTimeInterval(-Double($0) * 86_400) }
        return newestFirst.enumerated().filter { index, snapshot in
            let keptByCount = index < max(1, keepLast ?? 0)
            let keptByAge = cutoff.map { snapshot.takenAt >= $0 } ?? false
            return !keptByCount && !keptByAge
        }.map(\.element).reversed()
    }
}
