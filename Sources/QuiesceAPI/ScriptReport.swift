/// How a pre- or post-script ended, as reported and as passed to the post-script in
/// `QUIESCE_PRE_RESULT`.
public enum ScriptResult: String, Codable, Sendable {
    case succeeded
    case failed
    case timedOut
    case skipped
}

/// One script's run: every try together, with the tail of what it printed.
public struct ScriptReport: Codable, Sendable, Equatable {
    public var result: ScriptResult
    public var path: String?
    /// Tries actually started (1 + real retries).
    public var attempts: Int
    /// The last try's exit status, when it exited rather than died by a signal.
    public var exitCode: Int?
    /// The signal that ended the last try, when one did.
    public var signal: Int?
    public var durationMs: Double
    /// The last 64 KiB of standard output and standard error, decoded leniently as UTF-8.
    public var stdoutTail: String
    public var stderrTail: String

    public init(
        result: ScriptResult, path: String?, attempts: Int, exitCode: Int?, signal: Int?, durationMs: Double,
        stdoutTail: String, stderrTail: String
    ) {
        self.result = result
        self.path = path
        self.attempts = attempts
        self.exitCode = exitCode
        self.signal = signal
        self.durationMs = durationMs
        self.stdoutTail = stdoutTail
        self.stderrTail = stderrTail
    }

    /// A script that was never started.
    public static func skipped(path: String?) -> ScriptReport {
        ScriptReport(
            result: .skipped, path: path, attempts: 0, exitCode: nil, signal: nil, durationMs: 0,
            stdoutTail: "", stderrTail: ""
        )
    }
}
