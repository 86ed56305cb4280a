import Foundation
import QuiesceAPI

/// What a group snapshot did: the verdict, the consistent cut and how it was shown, and each
/// member's part with its timings, errors and, for failures, its scripts' own output.
public struct GroupSnapshotReport: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case succeeded
        case failed
    }

    public var group: String
    public var policy: String
    /// The session id every member used.
    public var sessionId: String
    public var status: Status
    /// The weakest member's, lowered to `crashConsistent` when the cut cannot be shown.
    public var consistency: Consistency
    /// Why the group failed or was downgraded, in words.
    public var failure: String?
    public var startedAt: Date
    public var finishedAt: Date
    /// First to last `frozenAt` on the agents' clocks.
    public var freezeSkewMs: Double?
    /// The instant agreed for every member's first FIFREEZE (`GroupSnapshot.freezeLead` after
    /// the freeze requests went out), when the freeze phase ran.
    public var plannedFreezeAt: Date?
    public var cut: GroupCut
    /// Each phase as the coordinator saw it: first request sent to last answer received.
    public var phases: [PhaseTiming]
    public var members: [Member]
    /// The group's verify command on the copies, when the group names one.
    public var verification: RestoreVerification?

    public struct PhaseTiming: Codable, Sendable, Equatable {
        public var phase: String
        public var startedAt: Date
        public var finishedAt: Date
        public var durationMs: Double
        /// The longest single member call, so `durationMs - slowestCallMs` is the coordinator's own share.
        public var slowestCallMs: Double
    }

    public struct Member: Codable, Sendable {
        public enum Status: String, Codable, Sendable {
            case succeeded
            case failed
            /// Not part of the snapshot: its own preflight, prepare or freeze failed.
            case leftOut
            /// Nothing wrong with it, but the group snapshot was called off.
            case calledOff
        }

        public var name: String
        public var address: String
        public var status: Status
        public var consistency: Consistency
        /// From the agent's report: the freeze as the guard held it, first FIFREEZE to last
        /// FITHAW, and the part of it the FIFREEZE calls took (the kernel flushing the disk).
        public var frozenMs: Double?
        public var freezeCallMs: Double?
        public var frozenAt: Date?
        public var thawedAt: Date?
        public var heldThroughSnapshot: Bool?
        public var snapshotId: String?
        /// How long the member's own snapshot provider ran, inside its freeze.
        public var snapshotMs: Double?
        /// What went wrong on the coordinator's side and in the agent's report, in words.
        public var problems: [String] = []
        /// The agent's errors with their codes.
        public var errors: [ReportedError] = []
        /// A failed script's own report, output tails included.
        public var preScript: ScriptReport?
        public var postScript: ScriptReport?
        /// Who finished the session: the coordinator, or the agent at lease expiry.
        public var finishedBy: String?
        /// Each call to this member: phase, sent and received on the coordinator's clock.
        public var calls: [Call] = []
    }

    public struct Call: Codable, Sendable, Equatable {
        public var phase: String
        public var sentAt: Date
        public var receivedAt: Date
        public var succeeded: Bool
    }
}

/// The instant at which every member was frozen, shown two ways: from the coordinator's own
/// send and receive times (no clock sync needed) and from the agents' timestamps.
public struct GroupCut: Codable, Sendable, Equatable {
    /// True when the coordinator's own times show such an instant and every member's freeze
    /// held through its snapshot. The agents' clocks are reported beside, not relied on.
    public var shown: Bool
    public var reason: String
    /// The last freeze answer received: from here every member was frozen...
    public var allFrozenConfirmedAt: Date?
    /// ...until the first thaw request was sent.
    public var firstThawSentAt: Date?
    /// The width of that window on the coordinator's clock.
    public var coordinatorWindowMs: Double?
    /// The same window from the agents' clocks: last `frozenAt` to first `thawedAt`.
    public var agentsWindowMs: Double?

    /// Works out the cut from each member's calls and agent timestamps. Members without a
    /// freeze (none configured) do not count; if no member froze, there is no cut to show.
    public static func measure(_ members: [GroupSnapshotReport.Member]) -> GroupCut {
        let frozen = members.filter { ($0.status == .succeeded || $0.status == .failed) && $0.frozenAt != nil }
        guard !frozen.isEmpty else {
            return GroupCut(shown: false, reason: "no member froze a file system, so there is no common frozen instant")
        }
        let confirmations = frozen.compactMap { $0.calls.last { $0.phase == "freeze" && $0.succeeded }?.receivedAt }
        let thaws = frozen.compactMap { $0.calls.first { $0.phase == "thaw" || $0.phase == "finish" }?.sentAt }
        guard confirmations.count == frozen.count, let allFrozen = confirmations.max(), let firstThaw = thaws.min()
        else {
            return GroupCut(shown: false, reason: "not every member confirmed its freeze")
        }
        var cut = GroupCut(
            shown: false, reason: "", allFrozenConfirmedAt: allFrozen, firstThawSentAt: firstThaw,
            coordinatorWindowMs: firstThaw.timeIntervalSince(allFrozen) * 1000)
        let lastFrozenAt = frozen.compactMap(\.frozenAt).max()
        let firstThawedAt = frozen.compactMap(\.thawedAt).min()
        if let lastFrozenAt, let firstThawedAt {
            cut.agentsWindowMs = firstThawedAt.timeIntervalSince(lastFrozenAt) * 1000
        }
        if let unheld = frozen.first(where: { $0.heldThroughSnapshot != true }) {
            cut.reason =
                "\(unheld.name)'s freeze did not hold through its snapshot (its guard thawed early or the thaw was not "
                + "confirmed)"
        } else if firstThaw <= allFrozen {
            cut.reason = "a thaw was sent before every freeze was confirmed"
        } else {
            cut.shown = true
            cut.reason =
                "every member was frozen from the last freeze confirmation to the first thaw request, "
                + "and every snapshot finished inside its member's freeze"
            if let window = cut.agentsWindowMs, window <= 0 {
                // The coordinator's own times prove the cut without trusting the VMs' clocks.
                cut.reason +=
                    "; the agents' clocks disagree (their window is \(String(format: "%.1f", window)) ms): check the "
                    + "VMs' clock sync"
            }
        }
        return cut
    }
}
