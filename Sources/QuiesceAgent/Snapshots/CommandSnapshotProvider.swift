import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// Runs a configured program while frozen: `QUIESCE_SESSION_ID` and `QUIESCE_FROZEN_MOUNTS`
/// (one mount per line) in its environment, exit 0 = taken, and the last non-empty line of its
/// standard output, if any, is the snapshot's id.
public struct CommandSnapshotProvider: SnapshotProvider {
    public var name: String { "command" }
    public let command: [String]
    public let timeout: Duration
    public let killGrace: Duration
    public let scripts: ScriptRunner

    public init(command: [String], timeout: Duration, killGrace: Duration, scripts: ScriptRunner = ScriptRunner()) {
        self.command = command
        self.timeout = timeout
        self.killGrace = killGrace
        self.scripts = scripts
    }

    public func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome {
        guard let executable = command.first else { return .failed("no snapshot command is configured") }
        let run = await scripts.run(
            ScriptInvocation(
                executable: FilePath(executable), arguments: Array(command.dropFirst()),
                environment: ScriptEnvironment.base.merging([
                    "QUIESCE_SESSION_ID": request.sessionId,
                    "QUIESCE_FROZEN_MOUNTS": request.frozenMounts.joined(separator: "\n"),
                ]) { $1 },
                budget: timeout, killGrace: killGrace, tailLimit: 16 * 1024))
        let output = [run.stdout.text, run.stderr.text].filter { !$0.isEmpty }.joined(separator: "\n")
        switch run.outcome {
        case .succeeded:
            let lastLine = run.stdout.text.split(whereSeparator: \.isNewline).last?.trimmingWhitespace()
            return .taken(id: lastLine.flatMap { $0.isEmpty ? nil : $0 }, output: output)
        case .failed:
            return .failed("snapshot command \(executable) \(run.ending)", output: output)
        case .timedOut:
            return .failed("snapshot command \(executable) ran longer than \(timeout) and was killed", output: output)
        case .couldNotStart(let reason):
            return .failed("snapshot command \(executable) could not start: \(reason)", output: output)
        }
    }
}
