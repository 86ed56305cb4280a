import QuiesceSystem

/// The coordinator-side snapshot command of a group, run once while every member is frozen.
public struct GroupCommand: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    public var deadline: Duration

    public struct Outcome: Sendable, Equatable {
        public var succeeded: Bool
        /// The last line of its standard output: the snapshot's identifier by convention.
        public var snapshotId: String?
        /// What went wrong, with the end of its output.
        public var failure: String?
        public var durationMs: Double
    }

    /// `environment` is added to the coordinator's own.
    public init(arguments: [String], environment: [String: String], deadline: Duration) {
        self.arguments = arguments
        self.environment = environment
        self.deadline = deadline
    }

    public func run(with runner: some ScriptRunning = ScriptRunner()) async -> Outcome {
        let run = await CoordinatorCommand(arguments: arguments, environment: environment, deadline: deadline).run(
            with: runner)
        let durationMs = run.duration / .milliseconds(1)
        let stdout = CoordinatorCommand.lines(run.stdout)
        guard run.outcome != .succeeded else {
            return Outcome(succeeded: true, snapshotId: stdout.last, durationMs: durationMs)
        }
        let output = (stdout + CoordinatorCommand.lines(run.stderr)).suffix(10).joined(separator: "\n")
        let why = CoordinatorCommand.failure(of: run, command: arguments[0], deadline: deadline)
        return Outcome(
            succeeded: false, failure: why + (output.isEmpty ? "" : "; its output ended with:\n\(output)"),
            durationMs: durationMs)
    }
}
