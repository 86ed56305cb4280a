import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// The coordinator-side snapshot command of a group, run once while every member is frozen,
/// through the agents' own `ScriptRunner`: its own process group, SIGTERM to the whole group at
/// the deadline and SIGKILL after a short grace, both output streams kept.
public struct GroupCommand: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    public var deadline: Duration
    /// Between SIGTERM and SIGKILL at the deadline: short, since every member stays frozen
    /// until the command is gone.
    public var killGrace: Duration = .seconds(2)

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
        let run = await runner.run(
            ScriptInvocation(
                executable: .init(arguments[0]), arguments: Array(arguments.dropFirst()),
                environment: CurrentProcess.environment.merging(environment) { _, new in new }, budget: deadline,
                killGrace: killGrace))
        let durationMs = run.duration / .milliseconds(1)
        let stdout = Self.lines(run.stdout)
        let output = (stdout + Self.lines(run.stderr)).suffix(10).joined(separator: "\n")
        let command = arguments[0]
        let why: String
        switch run.outcome {
        case .succeeded:
            return Outcome(succeeded: true, snapshotId: stdout.last, durationMs: durationMs)
        case .couldNotStart(let reason):
            why = "cannot start \(command): \(reason)"
        case .timedOut:
            why = "\(command) was still running at its \(deadline) deadline and was killed"
        case .failed:
            why = "\(command) \(run.ending)"
        }
        return Outcome(
            succeeded: false, failure: why + (output.isEmpty ? "" : "; its output ended with:\n\(output)"),
            durationMs: durationMs)
    }

    private static func lines(_ tail: OutputTail) -> [String] {
        tail.text.split(separator: "\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
