/// A stable error code, the same string on the wire, in reports and in logs.
///
/// The framework's ten codes keep the original's spelling verbatim so existing runbooks and
/// greps keep working; Quiesce's own codes follow the same style.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let preScriptExecutionFailed = ErrorCode(rawValue: "Pre-ScriptExecutionFailed")
    public static let postScriptExecutionFailed = ErrorCode(rawValue: "Post-ScriptExecutionFailed")
    public static let preScriptNotFound = ErrorCode(rawValue: "Pre-ScriptNotFound")
    public static let postScriptNotFound = ErrorCode(rawValue: "Post-ScriptNotFound")
    public static let incorrectPluginhostFile = ErrorCode(rawValue: "IncorrectPluginhostFile")
    public static let incorrectJSONConfigFile = ErrorCode(rawValue: "IncorrectJSONConfigFile")
    public static let insufficientPermissionForPreScript = ErrorCode(rawValue: "InsufficientPermissionforPre-Script")
    public static let insufficientPermissionForPostScript = ErrorCode(
        rawValue: "InsufficientPermissionforPost-Script"
    )
    public static let preScriptTimeout = ErrorCode(rawValue: "Pre-ScriptTimeout")
    public static let postScriptTimeout = ErrorCode(rawValue: "Post-ScriptTimeout")

    public static let fsFreezeFailed = ErrorCode(rawValue: "FsFreezeFailed")
    public static let fsFreezeTimeout = ErrorCode(rawValue: "FsFreezeTimeout")
    public static let snapshotFailed = ErrorCode(rawValue: "SnapshotFailed")
    /// The coordinator called a session's snapshot off, or its lease expired first.
    public static let sessionAborted = ErrorCode(rawValue: "SessionAborted")
    /// The agent stopped in the middle of a session and finished it after restarting.
    public static let agentRestarted = ErrorCode(rawValue: "AgentRestarted")
    /// The agent's own settings cannot be used; the command line exits 2.
    public static let invalidAgentSettings = ErrorCode(rawValue: "InvalidAgentSettings")
    /// The agent trusts signing keys, and a plugin config or script has no valid signature by one
    /// of them: not written by a push, not run by a cycle (treated like a permission failure).
    public static let signatureInvalid = ErrorCode(rawValue: "SignatureInvalid")
    /// An enrollment step was refused: a proof that does not match the join token, a
    /// certificate for another key or from another CA, a hello that is no longer current.
    public static let enrollmentRefused = ErrorCode(rawValue: "EnrollmentRefused")
    /// A warning, not a failure: `syncfs` before the freeze failed on a mount, so FIFREEZE did
    /// all of the flushing, with writers waiting.
    public static let flushFailed = ErrorCode(rawValue: "FlushFailed")
    /// A warning, not a failure: the plugin config carries a key the framework does not know.
    public static let unknownConfigKey = ErrorCode(rawValue: "UnknownConfigKey")

    /// The original framework's numeric code, for people who grep logs for it.
    public var legacyNumber: Int? {
        switch self {
        case .preScriptExecutionFailed: 300
        case .postScriptExecutionFailed: 301
        case .preScriptNotFound: 302
        case .postScriptNotFound: 303
        case .incorrectPluginhostFile: 304
        case .incorrectJSONConfigFile: 305
        case .insufficientPermissionForPreScript: 306
        case .insufficientPermissionForPostScript: 307
        case .preScriptTimeout: 308
        case .postScriptTimeout: 309
        default: nil
        }
    }
}
