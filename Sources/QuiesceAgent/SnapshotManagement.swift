import FoundationEssentials
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
                    + "snapshots list and prune work with the \"btrfs\" and \"lvm\" providers, and with \"command\" "
                    + "given `snapshot.listCommand` and `snapshot.deleteCommand`")
        }
        return provider
    }

    public static func list(_ provider: any ManagedSnapshotProvider) async -> SnapshotsReport {
        switch await provider.listSnapshots() {
        case .success(let snapshots): SnapshotsReport(snapshots: snapshots, deleted: [], errors: [])
        case .failure(let error): SnapshotsReport(snapshots: [], deleted: [], errors: [error.message])
        }
    }

    /// Deletes the snapshots `policy` lets go, for each origin on its own (none with `dryRun`):
    /// the newest of an origin always stays.
    public static func prune(
        _ provider: any ManagedSnapshotProvider, policy: RetentionPolicy, dryRun: Bool, now: Date = Date()
    ) async -> SnapshotsReport {
        var report = await list(provider)
        guard report.errors.isEmpty else { return report }
        for snapshot in expired(report.snapshots, policy: policy, now: now) {
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

    /// What `policy` lets go of `snapshots`, origin by origin, each origin's oldest first.
    public static func expired(_ snapshots: [SnapshotRecord], policy: RetentionPolicy, now: Date) -> [SnapshotRecord] {
        Dictionary(grouping: snapshots, by: \.origin).sorted { $0.key < $1.key }.flatMap { _, ofOrigin in
            let byId = Dictionary(ofOrigin.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return policy.expired(ofOrigin.map { .init(id: $0.id, takenAt: $0.createdAt) }, now: now).compactMap {
                byId[$0.id]
            }
        }
    }
}
