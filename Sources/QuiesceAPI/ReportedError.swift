/// One error or warning in a report: what broke, where in the cycle, and how to fix it.
public struct ReportedError: Codable, Sendable, Hashable {
    /// The stable code, e.g. `Pre-ScriptTimeout`.
    public var code: ErrorCode
    public var phase: CyclePhase
    /// What happened and how to fix it, naming the file or mount.
    public var message: String
    /// The original framework's numeric code, where it has one.
    public var legacyCode: Int?

    public init(code: ErrorCode, phase: CyclePhase, message: String) {
        self.code = code
        self.phase = phase
        self.message = message
        self.legacyCode = code.legacyNumber
    }
}
