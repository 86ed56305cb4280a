import QuiesceAPI
import QuiesceSystem

/// Which mounts a cycle freezes when `freeze.mounts` is not set, and why each other mount is
/// not frozen: block-device-backed ext3, ext4, xfs and btrfs, each file system once, minus
/// `freeze.mountsToSkip`, `/` last.
public struct FreezeCandidates: Sendable, Equatable {
    public static let fileSystemTypes: Set<String> = ["ext3", "ext4", "xfs", "btrfs"]

    /// Mount points to freeze, in freeze order (thaw is the reverse).
    public var mounts: [String]
    public var excluded: [ExcludedMount]

    /// Chooses from `table` as the original framework does, plus what it gets wrong: a file
    /// system mounted twice (bind mounts) is frozen once, and read-only mounts are left alone.
    public static func select(from table: MountTable, skip: [String], includeLoopDevices: Bool) -> FreezeCandidates {
        var chosen: [MountTable.Entry] = []
        var excluded: [ExcludedMount] = []
        let exclude = { (entry: MountTable.Entry, reason: String) in
            excluded.append(
                ExcludedMount(
                    mountPoint: entry.mountPoint, fileSystemType: entry.fileSystemType, source: entry.source,
                    reason: reason))
        }
        // A later mount on the same point hides the earlier one.
        let visible = Dictionary(table.entries.enumerated().map { ($1.mountPoint, $0) }) { _, last in last }
        // Skipping a mount point skips its file system wherever else it is mounted.
        let skippedDevices = Dictionary(
            table.entries.filter { skip.contains($0.mountPoint) }.map { ($0.device, $0.mountPoint) }
        ) { first, _ in first }
        for (index, entry) in table.entries.enumerated() {
            if visible[entry.mountPoint] != index {
                exclude(entry, "hidden by a later mount on the same mount point")
            } else if !fileSystemTypes.contains(entry.fileSystemType) {
                exclude(entry, "\(entry.fileSystemType) is not a file system that is frozen (ext3, ext4, xfs, btrfs)")
            } else if !entry.source.hasPrefix("/dev/") {
                exclude(entry, "not backed by a block device")
            } else if entry.source.hasPrefix("/dev/loop") && !includeLoopDevices {
                exclude(entry, "on a loop device; set freeze.includeLoopDevices to freeze it")
            } else if skip.contains(entry.mountPoint) {
                exclude(entry, "listed in freeze.mountsToSkip")
            } else if let skipped = skippedDevices[entry.device] {
                exclude(entry, "the same file system as \(skipped), which freeze.mountsToSkip lists")
            } else if entry.isReadOnly {
                exclude(entry, "mounted read-only: nothing to flush")
            } else if let first = chosen.first(where: { $0.device == entry.device }) {
                exclude(entry, "the same file system as \(first.mountPoint), which is frozen once")
            } else {
                chosen.append(entry)
            }
        }
        let root = chosen.filter { $0.mountPoint == "/" }
        return FreezeCandidates(
            mounts: (chosen.filter { $0.mountPoint != "/" } + root).map(\.mountPoint), excluded: excluded)
    }
}

extension AgentSettings {
    /// The mounts a cycle would freeze: `freeze.mounts` when set, else discovery.
    public func freezePlan() throws(SystemError) -> FreezeCandidates {
        if let mounts = freeze.mounts { return FreezeCandidates(mounts: mounts, excluded: []) }
        return FreezeCandidates.select(
            from: try MountTable.current(), skip: freeze.mountsToSkip, includeLoopDevices: freeze.includeLoopDevices)
    }
}

extension AgentSettings {
    /// Why there is nothing to freeze, and what to do about it.
    var noMountsMessage: String {
        if let mounts = freeze.mounts, mounts.isEmpty {
            return "no mounts to freeze: `freeze.mounts` is empty in the agent settings; list the mount points to "
                + "freeze, remove the key to discover them, or set fsFreezeEnabled false in the plugin config"
        }
        return "no mounts to freeze: discovery found no block-device ext3, ext4, xfs or btrfs mount "
            + "(`quiesce-agent check` lists each mount and why it is left out); list them in `freeze.mounts`"
    }
}
