import QuiesceAPI

/// `quiesce-agent snapshots list|prune`: the snapshots the configured provider made on this
/// machine, and retention.
public enum SnapshotManagement {
    /// The managed provider the settings name, or an error saying why there is none.
    public static func provider(for settings: AgentSettings) throws(AgentError) -> any ManagedSnapshotProvider {
        guard let provider = settings.makeSnapshotProvider() as? any ManagedSnapshotProvider else {
            throw AgentError(
                code: .invalidAgentSettings,
                message:
                    "snapshot.provider \"\(settings.snapshot.provider.rawValue)\" keeps no snapshots on this machine; "
                    + "snapshots list and prune work with the \"btrfs\" and \"lvm\" providers")
        }
        return provider
    }

    public static func list(_ provider: any ManagedSnapshotProvider) async -> SnapshotsReport {
        switch await provider.listSnapshots() {
        case .success(let snapshots): SnapshotsReport(snapshots: snapshots, deleted: [], errors: [])
        case .failure(let error): SnapshotsReport(snapshots: [], deleted: [], errors: [error.message])
        }
    }

    /// Deletes all but the newest `keep` snapshots of each origin (none with `dryRun`).
    public static func prune(_ provider: any ManagedSnapshotProvider, keep: Int, dryRun: Bool) async -> SnapshotsReport
    {
        var report = await list(provider)
        guard report.errors.isEmpty else { return report }
        for snapshot in SnapshotRetention.toDelete(report.snapshots, keep: keep) {
            if dryRun {
                report.deleted.append(snapshot)
                continue
            }
            switch await provider.deleteSnapshot(snapshot) {
            case .success: report.deleted.append(snapshot)
            case .failure(let error): report.errors.append("cannot delete \(snapshot.id): \(error.message)")
            }
        }
        let deleted = Set(report.deleted.map(\.id))
        report.snapshots.removeAll { !dryRun && deleted.contains($0.id) }
        return report
    }
}
