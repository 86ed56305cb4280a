import Foundation
import QuiesceAPI

/// The coordinator-side snapshot command of a group, run once while every member is frozen:
/// in its own process group, killed with the group at the deadline, its output kept in a file
/// (a pipe would wait for every grandchild that holds it).
public struct GroupCommand: Sendable {
    public var arguments: [String]
    public var environment: [String: String]
    public var deadline: Duration

    public struct Outcome: Sendable, Equatable {
        public var succeeded: Bool
        /// The last line of its output: the snapshot's identifier by convention.
        public var snapshotId: String?
        /// What went wrong, with the end of its output.
        public var failure: String?
        public var durationMs: Double
    }

    public init(arguments: [String], environment: [String: String], deadline: Duration) {
        self.arguments = arguments
        self.environment = environment
        self.deadline = deadline
    }

    public func run() async -> Outcome {
        await withCheckedContinuation { continuation in
            // Waiting for a child blocks: on a thread of its own, never on Swift's shared pool.
            Thread.detachNewThread { continuation.resume(returning: runBlocking()) }
        }
    }

    private func runBlocking() -> Outcome {
        let start = ContinuousClock.now
        let outputPath = NSTemporaryDirectory() + "quiesce-group-command-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let merged = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard spawned == 0 else {
            return Outcome(
                succeeded: false, failure: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))", durationMs: (ContinuousClock.now - start).milliseconds)
        }
        var status: Int32 = 0
        var timedOut = false
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now - start > deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(2_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let lines = output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let tail = lines.suffix(10).joined(separator: "\n")
        let exited = (status & 0x7F) == 0
        let code = (status >> 8) & 0xFF
        if !timedOut, exited, code == 0 {
            return Outcome(succeeded: true, snapshotId: lines.last, durationMs: (ContinuousClock.now - start).milliseconds)
        }
        let why = timedOut
            ? "\(arguments[0]) was still running at its \(deadline) deadline and was killed"
            : exited ? "\(arguments[0]) exited with status \(code)" : "\(arguments[0]) was killed by signal \(status & 0x7F)"
        return Outcome(succeeded: false, failure: why + (tail.isEmpty ? "" : "; its output ended with:\n\(tail)"), durationMs: (ContinuousClock.now - start).milliseconds)
    }
}
