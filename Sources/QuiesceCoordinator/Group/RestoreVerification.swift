import Foundation
import QuiesceSystem

/// The group's `verifyCommand`: once the group's snapshot is taken, the coordinator runs it to
/// restore the copies somewhere and check what the application promises (a database starts, its
/// totals add up, every row's file is there). A snapshot nobody can restore is no backup, so a
/// failed verification fails the run, in the verifier's own words.
public struct RestoreVerification: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable {
        case passed
        case failed
        /// There was nothing to verify: the snapshot was not taken.
        case notRun
    }

    public var result: Result
    public var command: [String]
    /// Why it failed (its own words first) or was not run.
    public var reason: String?
    public var exitCode: Int?
    public var durationMs: Double?
    /// The end of what it printed, standard output then standard error.
    public var outputTail: String = ""

    /// The environment a verifier gets besides the coordinator's own: `QUIESCE_GROUP`,
    /// `QUIESCE_SESSION`, `QUIESCE_MEMBERS` (comma-separated), `QUIESCE_SNAPSHOTS` (one
    /// `<vm> <snapshot id>` line per member) and `QUIESCE_SNAPSHOT_<VM>` per member (the name
    /// upper-cased, every character but letters and digits made `_`).
    public static func environment(
        group: String, session: String, snapshots: [(vm: String, id: String)]
    ) -> [String: String] {
        var environment = [
            "QUIESCE_GROUP": group, "QUIESCE_SESSION": session,
            "QUIESCE_MEMBERS": snapshots.map(\.vm).joined(separator: ","),
            "QUIESCE_SNAPSHOTS": snapshots.map { "\($0.vm) \($0.id)\n" }.joined(),
        ]
        for (vm, id) in snapshots { environment["QUIESCE_SNAPSHOT_\(variableName(vm))"] = id }
        return environment
    }

    static func variableName(_ vm: String) -> String {
        String(vm.uppercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }

    /// Runs `command` with `environment` within `deadline` and judges it by its exit status.
    public static func run(
        _ command: [String], environment: [String: String], deadline: Duration,
        with runner: some ScriptRunning = ScriptRunner()
    ) async -> RestoreVerification {
        let run = await CoordinatorCommand(arguments: command, environment: environment, deadline: deadline).run(
            with: runner)
        var verification = RestoreVerification(
            result: run.outcome == .succeeded ? .passed : .failed, command: command, exitCode: run.exitCode,
            durationMs: run.duration / .milliseconds(1),
            outputTail: (CoordinatorCommand.lines(run.stdout) + CoordinatorCommand.lines(run.stderr)).suffix(20)
                .joined(separator: "\n"))
        if run.outcome != .succeeded {
            verification.reason =
                CoordinatorCommand.failure(of: run, command: command[0], deadline: deadline)
                + (run.ownWords.map { "; it said: \($0)" } ?? "")
        }
        return verification
    }

    /// Not run, and why.
    public static func notRun(_ command: [String], because reason: String) -> RestoreVerification {
        RestoreVerification(result: .notRun, command: command, reason: reason)
    }
}
