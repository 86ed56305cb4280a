import FoundationEssentials

/// A snapshot a provider took and can list and delete.
public struct SnapshotRecord: Codable, Sendable, Equatable {
    public var provider: String
    /// What `snapshots prune` and the provider call it: a path (btrfs) or `VG/LV` (lvm).
    public var id: String
    /// What it is a snapshot of: a subvolume path or `VG/LV`.
    public var origin: String
    public var createdAt: Date
    /// The first part of the cycle's session id, from the snapshot's name.
    public var session: String

    public init(provider: String, id: String, origin: String, createdAt: Date, session: String) {
        self.provider = provider
        self.id = id
        self.origin = origin
        self.createdAt = createdAt
        self.session = session
    }
}

/// What `quiesce-agent snapshots list|prune` found and did.
public struct SnapshotsReport: Codable, Sendable {
    /// Snapshots that exist after the command, newest first per origin.
    public var snapshots: [SnapshotRecord]
    /// `prune`: the snapshots deleted.
    public var deleted: [SnapshotRecord]
    /// Deletions or listings that failed, in words.
    public var errors: [String]

    public init(snapshots: [SnapshotRecord], deleted: [SnapshotRecord], errors: [String]) {
        self.snapshots = snapshots
        self.deleted = deleted
        self.errors = errors
    }
}

/// `POST /v1/snapshots/prune`: the group's retention, applied to each origin's snapshots.
public struct SnapshotPruneRequest: Codable, Sendable, Equatable {
    public static let keys: Set<String> = ["keepLast", "keepDays", "dryRun"]

    public var keepLast: Int?
    public var keepDays: Int?
    /// List what would go, delete nothing.
    public var dryRun: Bool?

    public init(_ policy: RetentionPolicy, dryRun: Bool = false) {
        keepLast = policy.keepLast
        keepDays = policy.keepDays
        self.dryRun = dryRun
    }
}
