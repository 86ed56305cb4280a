import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// A program the coordinator runs itself (a group's snapshot or verify command), through the
/// agents' own `ScriptRunner`: its own process group, SIGTERM to the whole group at the deadline
/// and SIGKILL after a short grace, both output streams kept.
struct CoordinatorCommand: Sendable {
    var arguments: [String]
    /// Added to the coordinator's own environment.
    var environment: [String: String]
    var deadline: Duration
    /// Between SIGTERM and SIGKILL at the deadline: short, since members may be frozen until the
    /// command is gone.
    var killGrace: Duration = .seconds(2)

    func run(with runner: some ScriptRunning) async -> ScriptRun {
        await runner.run(
            ScriptInvocation(
                executable: .init(arguments[0]), arguments: Array(arguments.dropFirst()),
                environment: CurrentProcess.environment.merging(environment) { _, new in new }, budget: deadline,
                killGrace: killGrace))
    }

    /// How a run that did not succeed ended, in words.
    static func failure(of run: ScriptRun, command: String, deadline: Duration) -> String {
        switch run.outcome {
        case .succeeded: "\(command) succeeded"
        case .couldNotStart(let reason): "cannot start \(command): \(reason)"
        case .timedOut: "\(command) was still running at its \(deadline) deadline and was killed"
        case .failed: "\(command) \(run.ending)"
        }
    }

    /// The non-empty lines of an output tail, trimmed.
    static func lines(_ tail: OutputTail) -> [String] {
        tail.text.split(separator: "\n").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }
}
