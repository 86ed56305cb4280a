/// What `quiesce-agent check` finds without running anything: every rule, every file, and the
/// consistency the next backup would reach, with the reason.
public struct CheckReport: Codable, Sendable {
    public var predictedConsistency: Consistency
    /// One sentence a tired operator can act on.
    public var reason: String
    public var configState: CycleReport.ConfigState
    public var errors: [ReportedError]
    public var warnings: [ReportedError]
    public var plugins: [PluginCheck]
    /// Every file the framework reads, with the facts behind each permission rule.
    public var files: [FileCheck]
    public var freeze: FreezePlan
    public var snapshotProvider: String
    /// The agent that answered, in the answer of `GET /v1/compliance`: a sweep learns its version
    /// and certificate from the one request. Absent from `quiesce-agent check` and older agents.
    public var agent: AgentVersion?

    public init(
        predictedConsistency: Consistency, reason: String, configState: CycleReport.ConfigState,
        errors: [ReportedError], warnings: [ReportedError], plugins: [PluginCheck], files: [FileCheck],
        freeze: FreezePlan, snapshotProvider: String
    ) {
        self.predictedConsistency = predictedConsistency
        self.reason = reason
        self.configState = configState
        self.errors = errors
        self.warnings = warnings
        self.plugins = plugins
        self.files = files
        self.freeze = freeze
        self.snapshotProvider = snapshotProvider
    }
}

/// One plugin's effective settings after loading its config.
public struct PluginCheck: Codable, Sendable {
    public var name: String
    public var configPath: String
    public var preScript: String
    public var postScript: String
    public var timeoutSeconds: Int
    public var continueBackupOnFailure: Bool
    public var fsFreezeEnabled: Bool

    public init(
        name: String, configPath: String, preScript: String, postScript: String, timeoutSeconds: Int,
        continueBackupOnFailure: Bool, fsFreezeEnabled: Bool
    ) {
        self.name = name
        self.configPath = configPath
        self.preScript = preScript
        self.postScript = postScript
        self.timeoutSeconds = timeoutSeconds
        self.continueBackupOnFailure = continueBackupOnFailure
        self.fsFreezeEnabled = fsFreezeEnabled
    }
}

/// The facts about one file and every permission rule it breaks.
public struct FileCheck: Codable, Sendable, Equatable {
    public enum Role: String, Codable, Sendable {
        case pluginConfig
        case pluginHost
        case preScript
        case postScript
    }

    public var role: Role
    public var path: String
    public var exists: Bool
    public var ownerUid: UInt32?
    /// `st_mode & 0o7777` in octal, e.g. `"0600"`.
    public var mode: String?
    /// Every broken rule, in words; empty when the file is compliant.
    public var violations: [String]
    /// The plugin config and scripts: the SHA-256 of the content, so a coordinator can tell
    /// drift from what it pushed.
    public var sha256: String?
    /// When the agent trusts signing keys: the one whose valid signature the file carries, or
    /// nil when it carries none (the reason is among the report's errors).
    public var signedBy: String?

    public init(
        role: Role, path: String, exists: Bool, ownerUid: UInt32?, mode: String?, violations: [String],
        sha256: String? = nil, signedBy: String? = nil
    ) {
        self.role = role
        self.path = path
        self.exists = exists
        self.ownerUid = ownerUid
        self.mode = mode
        self.violations = violations
        self.sha256 = sha256
        self.signedBy = signedBy
    }
}

/// What the next cycle would freeze.
public struct FreezePlan: Codable, Sendable {
    public var enabled: Bool
    /// True when the mounts come from discovery rather than `freeze.mounts`.
    public var discovered: Bool
    /// In freeze order.
    public var mounts: [String]
    /// Every other mount, with the reason it is not frozen.
    public var excluded: [ExcludedMount]

    public init(enabled: Bool, discovered: Bool, mounts: [String], excluded: [ExcludedMount]) {
        self.enabled = enabled
        self.discovered = discovered
        self.mounts = mounts
        self.excluded = excluded
    }
}

/// A mount that is not frozen, and why.
public struct ExcludedMount: Codable, Sendable, Equatable {
    public var mountPoint: String
    public var fileSystemType: String
    public var source: String
    public var reason: String

    public init(mountPoint: String, fileSystemType: String, source: String, reason: String) {
        self.mountPoint = mountPoint
        self.fileSystemType = fileSystemType
        self.source = source
        self.reason = reason
    }
}
