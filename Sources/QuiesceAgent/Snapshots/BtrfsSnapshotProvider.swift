import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// Read-only btrfs snapshots of configured subvolumes, in a directory inside each subvolume.
///
/// A btrfs snapshot is atomic on its own, and taking one on a frozen btrfs blocks until the
/// thaw (the snapshot needs a transaction commit), so the file systems holding these
/// subvolumes are left out of the freeze: `atomicMounts` names them.
public struct BtrfsSnapshotProvider: ManagedSnapshotProvider {
    public var name: String { "btrfs" }
    /// Subvolume paths to snapshot.
    public let subvolumes: [String]
    /// Where snapshots of a subvolume go, relative to it, e.g. `.snapshots`.
    public let directory: String
    /// Mount points of the file systems holding `subvolumes`.
    public let atomicMounts: [String]
    let tool: SystemTool

    public init(subvolumes: [String], directory: String, mounts: MountTable?, timeout: Duration) {
        self.subvolumes = subvolumes
        self.directory = directory
        self.atomicMounts =
            mounts.map { table in
                subvolumes.compactMap { table.mountPoint(containing: $0) }
            } ?? []
        tool = SystemTool(name: "btrfs", timeout: timeout)
    }

    public func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome {
        let name = SnapshotName.make(sessionId: request.sessionId)
        var made: [String] = []
        for subvolume in subvolumes {
            let target = "\(subvolume)/\(directory)"
            do {
                try Directory.make(target, mode: 0o700)
            } catch {
                return .failed(
                    "cannot create \(target) for btrfs snapshots: \(error)", output: made.joined(separator: "\n"))
            }
            switch await tool.run(["subvolume", "snapshot", "-r", subvolume, "\(target)/\(name)"]) {
            case .success:
                made.append("\(target)/\(name)")
            case .failure(let failure):
                return .failed(
                    failure.message, output: made.map { "made \($0) before the failure" }.joined(separator: "\n"))
            }
        }
        return .taken(id: name, output: made.joined(separator: "\n"))
    }

    public func listSnapshots() async -> Result<[SnapshotRecord], SnapshotManagementError> {
        var records: [SnapshotRecord] = []
        for subvolume in subvolumes {
            let target = "\(subvolume)/\(directory)"
            let names: [String]
            do {
                names = try DirectoryListing.names(in: target)
            } catch  where error.isNotFound {
                continue
            } catch {
                return .failure(SnapshotManagementError(message: "cannot list \(target): \(error)"))
            }
            for name in names {
                guard let parsed = SnapshotName.parse(name) else { continue }
                records.append(
                    SnapshotRecord(
                        provider: self.name, id: "\(target)/\(name)", origin: subvolume, createdAt: parsed.createdAt,
                        session: parsed.session))
            }
        }
        return .success(records.sorted { $0.createdAt < $1.createdAt })
    }

    public func deleteSnapshot(_ snapshot: SnapshotRecord) async -> Result<Void, SnapshotManagementError> {
        await tool.run(["subvolume", "delete", snapshot.id]).map { _ in () }
            .mapError { SnapshotManagementError(message: $0.message) }
    }
}

extension MountTable {
    /// The mount point of the file system holding `path`: the longest mount point that is a
    /// prefix of it.
    func mountPoint(containing path: String) -> String? {
        entries.map(\.mountPoint)
            .filter { $0 == "/" || path == $0 || path.hasPrefix($0 + "/") }
            .max { $0.count < $1.count }
    }
}
