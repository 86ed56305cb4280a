import FoundationEssentials

/// The outcome of one local backup cycle, as `quiesce-agent run-once --json` prints it.
public struct CycleReport: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        case succeeded
        case failed
        /// A session still under way; `consistency` is the best it can still reach.
        case inProgress
    }

    /// Whether a plugin config existed at all (`notConfigured` is the original's state name).
    public enum ConfigState: String, Codable, Sendable {
        case configured
        case notConfigured
    }

    public var sessionId: String
    public var status: Status
    public var consistency: Consistency
    public var configState: ConfigState
    public var startedAt: Date
    public var finishedAt: Date
    public var errors: [ReportedError]
    public var warnings: [ReportedError]
    /// The pre-scripts of every plugin summarised in one entry; `plugins` has each one.
    public var preScript: ScriptReport
    public var postScript: ScriptReport
    public var plugins: [PluginReport]
    public var freeze: FreezeReport
    public var snapshot: SnapshotReport

    public init(
        sessionId: String, status: Status, consistency: Consistency, configState: ConfigState,
        startedAt: Date, finishedAt: Date, errors: [ReportedError], warnings: [ReportedError],
        preScript: ScriptReport, postScript: ScriptReport, plugins: [PluginReport],
        freeze: FreezeReport, snapshot: SnapshotReport
    ) {
        self.sessionId = sessionId
        self.status = status
        self.consistency = consistency
        self.configState = configState
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.errors = errors
        self.warnings = warnings
        self.preScript = preScript
        self.postScript = postScript
        self.plugins = plugins
        self.freeze = freeze
        self.snapshot = snapshot
    }
}

/// One plugin's pre- and post-script as they ran in a cycle.
public struct PluginReport: Codable, Sendable {
    public var name: String
    public var configPath: String
    public var preScript: ScriptReport
    public var postScript: ScriptReport

    public init(name: String, configPath: String, preScript: ScriptReport, postScript: ScriptReport) {
        self.name = name
        self.configPath = configPath
        self.preScript = preScript
        self.postScript = postScript
    }

    public func script(_ phase: ScriptPhase) -> ScriptReport { phase == .pre ? preScript : postScript }
}

/// What the freeze did during a cycle.
public struct FreezeReport: Codable, Sendable {
    public var enabled: Bool
    /// The mounts actually frozen, in freeze order.
    public var mounts: [String]
    /// Mounts left unfrozen because the snapshot provider snapshots them atomically (btrfs).
    public var atomicMounts: [String] = []
    /// True only if every freeze was still held when the snapshot finished.
    public var heldThroughSnapshot: Bool
    /// Time from the first FIFREEZE to the last FITHAW, or nil when nothing was frozen.
    public var frozenMs: Double?
    /// Of that, the time FIFREEZE itself took: the kernel flushing what is still dirty and waiting
    /// for its locks before the freeze holds.
    public var freezeCallMs: Double?
    /// The `syncfs` of the mounts after the pre-scripts, and again just before the first
    /// FIFREEZE (`freeze.flushBeforeFreeze`); nil when there was none.
    public var flushAfterPreScriptsMs: Double?
    public var flushBeforeFreezeMs: Double?
    /// RCU grace periods were expedited while the freeze was taken (`freeze.expediteGracePeriods`).
    public var expeditedGracePeriods: Bool?
    /// The instant agreed for the first FIFREEZE (a group snapshot's `freezeAt`), when there was one.
    public var plannedAt: Date?
    /// When every mount was frozen and when the thaw finished, by the agent's clock.
    public var frozenAt: Date?
    public var thawedAt: Date?

    public init(
        enabled: Bool, mounts: [String], atomicMounts: [String] = [], heldThroughSnapshot: Bool, frozenMs: Double?,
        freezeCallMs: Double? = nil, frozenAt: Date? = nil, thawedAt: Date? = nil
    ) {
        self.atomicMounts = atomicMounts
        self.freezeCallMs = freezeCallMs
        self.enabled = enabled
        self.mounts = mounts
        self.heldThroughSnapshot = heldThroughSnapshot
        self.frozenMs = frozenMs
        self.frozenAt = frozenAt
        self.thawedAt = thawedAt
    }
}

/// What the snapshot provider did during a cycle.
public struct SnapshotReport: Codable, Sendable {
    public var taken: Bool
    public var provider: String
    /// The provider's identifier for the snapshot, when it gives one.
    public var id: String?
    public var durationMs: Double?
    /// False when a snapshot exists but must not be relied on (a post-script failed with
    /// `continueBackupOnFailure` false).
    public var usable: Bool
    /// The provider's own output, kept for the report when it failed.
    public var outputTail: String?

    public init(
        taken: Bool, provider: String, id: String? = nil, durationMs: Double? = nil, usable: Bool,
        outputTail: String? = nil
    ) {
        self.taken = taken
        self.provider = provider
        self.id = id
        self.durationMs = durationMs
        self.usable = usable
        self.outputTail = outputTail
    }
}
