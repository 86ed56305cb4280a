import QuiesceAPI

/// The decision table of framework.md section 5 as a pure state machine: told what happened,
/// it says what to do next and, at the end, what the cycle achieved. It does no I/O, so every
/// row of the table is a plain test.
///
///     var machine = CycleMachine(policy: policy, precheck: .ready)
///     while true {
///         switch machine.next() {
///         case .runPreScripts: machine.preScripts = ...
///         ...
///         case .finish(let verdict): return verdict
///         }
///     }
public struct CycleMachine: Sendable {
    /// What to do next.
    public enum Step: Sendable, Equatable {
        case runPreScripts
        case freeze
        /// Take the snapshot; `frozen` says whether the file systems are frozen for it.
        case snapshot(frozen: Bool)
        case thaw
        case runPostScripts
        case finish(Verdict)
    }

    /// What the cycle achieved.
    public struct Verdict: Sendable, Equatable {
        public var status: CycleReport.Status
        public var consistency: Consistency
        /// False when a snapshot was taken but must not be relied on.
        public var snapshotUsable: Bool
    }

    /// How a group of scripts (one per plugin) ended, worst first.
    public enum ScriptsOutcome: Sendable, Equatable {
        case succeeded
        case failed
        case timedOut
    }

    public let policy: CyclePolicy
    public let precheck: Precheck.Verdict
    public var preScripts: ScriptsOutcome?
    /// Whether FIFREEZE succeeded on every mount.
    public var freezeSucceeded: Bool?
    public var snapshotTaken: Bool?
    /// Whether every freeze still held when the snapshot finished (false = `FsFreezeTimeout`).
    public var freezeHeld: Bool?
    public var postScripts: ScriptsOutcome?
    /// The coordinator called the snapshot off: nothing is snapshotted, the rest still runs.
    public var snapshotAbandoned = false

    public init(policy: CyclePolicy, precheck: Precheck.Verdict) {
        self.policy = policy
        self.precheck = precheck
    }

    /// The verdict if every step still to come succeeds; `freezeWorks` false plays a freeze
    /// that cannot be taken (no mounts).
    public func prospect(freezeWorks: Bool = true) -> Verdict {
        var playing = self
        while true {
            switch playing.next() {
            case .runPreScripts: playing.preScripts = .succeeded
            case .freeze: playing.freezeSucceeded = freezeWorks
            case .snapshot: playing.snapshotTaken = true
            case .thaw: playing.freezeHeld = true
            case .runPostScripts: playing.postScripts = .succeeded
            case .finish(let verdict): return verdict
            }
        }
    }

    public func next() -> Step {
        if precheck == .ready && preScripts == nil { return .runPreScripts }
        if wantsSnapshot && !snapshotAbandoned && policy.freezeEnabled && scriptsAllowFreeze && freezeSucceeded == nil {
            return .freeze
        }
        if snapshotAllowed && snapshotTaken == nil { return .snapshot(frozen: frozen) }
        if frozen && freezeHeld == nil { return .thaw }
        if preScripts != nil && postScripts == nil { return .runPostScripts }
        return .finish(verdict)
    }

    /// The scripts did their part: every one present, allowed, and succeeded.
    private var scriptsSucceeded: Bool { precheck == .ready && preScripts == .succeeded }

    /// A script problem under `continueBackupOnFailure` false, which the table turns into
    /// "backup fails" unless the single-disk rule applies.
    private var scriptsFailedStrictly: Bool {
        let scriptProblem = precheck == .scriptsUnusable || (precheck == .ready && preScripts != .succeeded)
        return scriptProblem && !policy.continueOnFailure
    }

    /// Whether any snapshot is to be taken after the scripts.
    private var wantsSnapshot: Bool { !scriptsFailedStrictly || policy.singleDisk }

    /// A strict script failure on a single disk takes its crash-consistent snapshot unfrozen.
    private var scriptsAllowFreeze: Bool { !scriptsFailedStrictly }

    private var frozen: Bool { freezeSucceeded == true }

    /// Whether the snapshot goes ahead, given how the freeze went.
    private var snapshotAllowed: Bool {
        guard wantsSnapshot else { return false }
        if freezeSucceeded == false { return policy.continueOnFailure || policy.singleDisk }
        return true
    }

    private var verdict: Verdict {
        let failed = Verdict(status: .failed, consistency: .none, snapshotUsable: false)
        guard snapshotTaken == true else { return failed }
        let freezeHeldThroughout = frozen && freezeHeld == true
        let freezeBroke = frozen && freezeHeld == false
        // A freeze that gave out before the snapshot finished fails the backup like a failed
        // freeze does, unless the policy accepts crash consistency.
        if freezeBroke && !policy.continueOnFailure && !policy.singleDisk { return failed }
        let fallback: Consistency = freezeHeldThroughout ? .fileSystemConsistent : .crashConsistent
        if let post = postScripts, post != .succeeded {
            return policy.continueOnFailure
                ? Verdict(status: .succeeded, consistency: fallback, snapshotUsable: true) : failed
        }
        // With fsFreezeEnabled false the scripts alone quiesced the application.
        let freezeDidItsPart = freezeHeldThroughout || !policy.freezeEnabled
        let consistency: Consistency = scriptsSucceeded && freezeDidItsPart ? .applicationConsistent : fallback
        return Verdict(status: .succeeded, consistency: consistency, snapshotUsable: true)
    }
}

extension CycleMachine.Step {
    /// The session phase this step belongs to: the one mapping between a cycle's steps and a
    /// session's phases. The final verdict belongs to `finish`, after the post-scripts.
    public var sessionPhase: SessionPhase {
        switch self {
        case .runPreScripts: .prepare
        case .freeze: .freeze
        case .snapshot: .snapshot
        case .thaw: .thaw
        case .runPostScripts, .finish: .finish
        }
    }

    /// The step as a report names it; nil for the final verdict, which is no step of its own.
    public var cyclePhase: CyclePhase? {
        switch self {
        case .runPreScripts: .preScript
        case .freeze: .freeze
        case .snapshot: .snapshot
        case .thaw: .thaw
        case .runPostScripts: .postScript
        case .finish: nil
        }
    }
}
