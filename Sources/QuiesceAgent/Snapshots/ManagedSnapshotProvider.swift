import QuiesceAPI

/// A provider whose snapshots live on this machine, so it can list and delete them:
/// `quiesce-agent snapshots list|prune` works through this.
public protocol ManagedSnapshotProvider: SnapshotProvider {
    /// Every snapshot this provider made (named `quiesce-...`), oldest first.
    func listSnapshots() async -> Result<[SnapshotRecord], SnapshotManagementError>
    func deleteSnapshot(_ snapshot: SnapshotRecord) async -> Result<Void, SnapshotManagementError>
}

public struct SnapshotManagementError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
