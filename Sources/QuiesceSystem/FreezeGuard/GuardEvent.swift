/// One line of the freeze guard's report to the agent, as JSON.
///
/// The guard reports exactly one of `frozen` or `freezeFailed`, then `thawed` (after a
/// `frozen`, whatever made it thaw).
public struct GuardEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Every mount is frozen.
        case frozen
        /// A FIFREEZE failed; whatever was frozen before it is thawed again.
        case freezeFailed
        /// The guard thawed; `reason` says why.
        case thawed
    }

    /// What made the guard thaw.
    public enum ThawReason: String, Codable, Sendable {
        /// The agent asked, as it does after the snapshot.
        case requested
        /// `freeze.timeoutSeconds` passed first.
        case deadline
        /// The pipe from the agent closed: the agent died or was killed.
        case parentGone
        /// The guard got a signal.
        case signal
    }

    /// A system call that failed inside the guard.
    public struct CallFailure: Codable, Sendable, Equatable {
        public var call: String
        public var mount: String
        public var errno: Int32
    }

    public var event: Kind
    /// Milliseconds since the Unix epoch of the freeze (`frozen`) or the thaw (`thawed`), with
    /// the fraction down to the microsecond.
    public var at: Double
    /// `frozen`: milliseconds since the Unix epoch when the first FIFREEZE was issued.
    public var since: Double?
    /// `frozen`: how long the `syncfs` of every mount just before the first FIFREEZE took.
    public var flushMs: Double?
    /// `frozen`: mounts that `syncfs` failed on (each was frozen anyway).
    public var flushFailures: [CallFailure]?
    /// `frozen`: RCU grace periods were expedited while the freeze was taken (`KernelGracePeriods`).
    public var expedited: Bool?
    /// `frozen`: the mounts frozen, in order. `thawed`: the mounts thawed, in thaw order.
    /// `freezeFailed`: the mounts frozen before the failure and thawed again.
    public var mounts: [String]
    /// `freezeFailed`: the call that failed.
    public var failure: CallFailure?
    /// `thawed`: why.
    public var reason: ThawReason?
    public var signal: Int32?
    /// `thawed`: true only if every mount was still frozen when the agent asked for the thaw.
    public var held: Bool?
    /// `thawed`: mounts somebody else had already thawed (FITHAW said EINVAL).
    public var alreadyThawed: [String]?
    /// Thaws (or roll-back thaws) that failed.
    public var thawFailures: [CallFailure]?
    /// A FIFREEZE still blocked in the kernel when the guard had to thaw. The guard stays alive
    /// and thaws that mount the moment the call returns.
    public var pendingFreeze: String?

    public init(event: Kind, at: Double, mounts: [String]) {
        self.event = event
        self.at = at
        self.mounts = mounts
    }
}
