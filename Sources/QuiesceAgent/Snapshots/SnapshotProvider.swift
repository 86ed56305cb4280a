/// Takes the snapshot while the file systems are frozen.
public protocol SnapshotProvider: Sendable {
    /// The name reported, e.g. `"command"`.
    var name: String { get }
    /// Mount points whose snapshots this provider takes atomically and which must not be
    /// frozen for it.
    var atomicMounts: [String] { get }
    /// Takes one snapshot. A failure is a result, not a thrown error: the cycle must go on to
    /// thaw and run the post-scripts whatever happens here.
    func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome
}

extension SnapshotProvider {
    public var atomicMounts: [String] { [] }
}

/// What a provider is told about the snapshot to take.
public struct SnapshotRequest: Sendable {
    public var sessionId: String
    /// The mounts frozen right now, in freeze order; empty for an unfrozen snapshot.
    public var frozenMounts: [String]
}

public struct SnapshotOutcome: Sendable {
    public var taken: Bool
    /// The provider's identifier for the snapshot, when it has one.
    public var id: String?
    /// Why it failed, in words, when it did.
    public var failure: String?
    /// The provider's own output, for the report.
    public var outputTail: String?

    public static func taken(id: String? = nil, output: String? = nil) -> SnapshotOutcome {
        SnapshotOutcome(taken: true, id: id, failure: nil, outputTail: output)
    }

    public static func failed(_ reason: String, output: String? = nil) -> SnapshotOutcome {
        SnapshotOutcome(taken: false, id: nil, failure: reason, outputTail: output)
    }
}

/// Freeze only: the platform snapshots the disks from outside (a cloud snapshot API, a
/// hypervisor); the freeze window is what this agent contributes.
public struct PlatformSnapshotProvider: SnapshotProvider {
    public var name: String { "none" }
    public init() {}
    public func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome { .taken() }
}
