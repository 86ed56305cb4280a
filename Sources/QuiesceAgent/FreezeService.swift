import FoundationEssentials

/// Takes and releases a freeze of several mounts: all of them or none.
///
/// The agent's real one is `GuardFreezeService`, which holds every freeze in a guard process;
/// `InProcessFreezeService` does the same ioctls in the calling process, for tests over a fake
/// freezer.
public protocol FreezeService: Sendable {
    /// Freezes `mounts` in order, to be thawed by `timeout` at the latest; with `instant`, the
    /// first FIFREEZE waits for it (at once when it is past).
    func freeze(_ mounts: [String], timeout: Duration, at instant: Date?) async -> Result<any HeldFreeze, FreezeFailure>
    /// Writes back `mounts`' dirty data without freezing them; the failures, in words.
    func flush(_ mounts: [String]) async -> [String]
}

/// A freeze being held.
public protocol HeldFreeze: Sendable {
    /// When the first FIFREEZE was issued, by the clock of the process holding the freeze.
    var freezingSince: Date { get }
    /// When every mount was frozen, by the same clock.
    var frozenAt: Date { get }
    /// What was done just before the first FIFREEZE.
    var preparation: FreezePreparation { get }
    /// Thaws every mount, in reverse order, and says whether the freeze held until now.
    func thaw() async -> ThawOutcome
}

/// What the freeze did just before its first FIFREEZE.
public struct FreezePreparation: Sendable {
    /// The `syncfs` of every mount, when there was one.
    public var flushMs: Double?
    /// Mounts that could not be flushed, in words (each was frozen anyway).
    public var flushErrors: [String]
    /// RCU grace periods were expedited while the freeze was taken.
    public var expeditedGracePeriods: Bool

    public init(flushMs: Double? = nil, flushErrors: [String] = [], expeditedGracePeriods: Bool = false) {
        self.flushMs = flushMs
        self.flushErrors = flushErrors
        self.expeditedGracePeriods = expeditedGracePeriods
    }
}

/// Why a freeze could not be taken; whatever had been frozen is thawed again.
public struct FreezeFailure: Error, Sendable {
    /// The mount that failed, when one did.
    public var mount: String?
    /// What failed, in words, e.g. "FIFREEZE: Device or resource busy".
    public var reason: String
    /// The mount was already frozen by someone else; it is left frozen as it was.
    public var alreadyFrozen: Bool
    /// Mounts frozen before the failure and thawed again at once.
    public var rolledBack: [String]
    /// Roll-back thaws that failed, in words.
    public var rollbackErrors: [String]
}

/// How a thaw went.
public struct ThawOutcome: Sendable {
    /// True only if every freeze was still held when the thaw was asked for.
    public var held: Bool
    /// Why the freeze ended when it was not the agent asking, e.g. "its 60 s deadline passed".
    public var endedEarly: String?
    /// Mounts someone else had thawed already.
    public var alreadyThawed: [String]
    /// Thaws that failed, in words; such a mount may still be frozen.
    public var errors: [String]
    /// When the last FITHAW returned, by the clock of the process holding the freeze.
    public var thawedAt: Date
}
