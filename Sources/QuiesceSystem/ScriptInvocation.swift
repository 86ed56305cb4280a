import SystemPackage

/// How to run one script: what, with which arguments and environment, and for how long.
public struct ScriptInvocation: Sendable {
    public var executable: FilePath
    /// argv after argv[0]; each element is passed as is, never through a shell.
    public var arguments: [String]
    /// The complete environment; nothing is inherited from the agent.
    public var environment: [String: String]
    /// The time all tries together may take.
    public var budget: Duration
    /// Re-runs after a try that exits non-zero, while the budget lasts.
    public var retries: Int
    /// How long the process group has between SIGTERM and SIGKILL.
    public var killGrace: Duration
    /// How many bytes of each of stdout and stderr to keep.
    public var tailLimit: Int

    public init(
        executable: FilePath, arguments: [String] = [], environment: [String: String] = [:],
        budget: Duration, retries: Int = 0, killGrace: Duration = .seconds(5), tailLimit: Int = 64 * 1024
    ) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.budget = budget
        self.retries = retries
        self.killGrace = killGrace
        self.tailLimit = tailLimit
    }
}

/// How a script run ended, over all its tries.
public struct ScriptRun: Sendable {
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// The last try exited non-zero or died by a signal, and no retry or budget was left.
        case failed
        /// The budget ran out while a try was running; its process group was killed.
        case timedOut
        /// The script could not be started at all (not executable, missing interpreter, ...).
        case couldNotStart(String)
    }

    public var outcome: Outcome
    public var attempts: Int
    public var exitCode: Int?
    public var signal: Int?
    public var duration: Duration
    public var stdout: OutputTail
    public var stderr: OutputTail

    /// How its last try ended when it did not exit 0: "exited with status 3" or "was killed by
    /// signal 9", as every report of a script or command says it.
    public var ending: String {
        exitCode.map { "exited with status \($0)" } ?? "was killed by signal \(signal ?? 0)"
    }

    /// A run that succeeded at once without starting anything, for simulations.
    public static func succeededInstantly() -> ScriptRun {
        ScriptRun(
            outcome: .succeeded, attempts: 1, exitCode: 0, signal: nil, duration: .zero, stdout: OutputTail(),
            stderr: OutputTail())
    }
}
