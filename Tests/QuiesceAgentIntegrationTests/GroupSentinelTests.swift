import Foundation
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// The group sentinel, as `serve` starts it, losing its agent.
@Suite struct GroupSentinelTests {
    /// `sh` in a session of its own, with a background child, carrying `marker` in its
    /// environment; returns it and the pids of both once they run.
    private func script(marker: String, in directory: TemporaryDirectory, name: String) async throws -> (
        ChildProcess, [pid_t]
    ) {
        let pidFile = directory.url(name)
        let child = try ChildProcess.start(
            ["setsid", "sh", "-c", "sleep 300 & echo $$ $! > \(pidFile).tmp; mv \(pidFile).tmp \(pidFile); wait"],
            environment: ["PATH": "/usr/bin:/bin", GroupSentinel.markerVariable: marker])
        #expect(await eventually(within: 10) { FileManager.default.fileExists(atPath: pidFile) })
        let pids = try directory.read(name).split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
        #expect(pids.count == 2)
        return (child, pids)
    }

    /// An agent killed between spawning a script and telling the sentinel leaves a group the
    /// sentinel never heard of: the marker in the script's environment still finds it, and a
    /// process with another agent's marker is left alone.
    @Test func aScriptTheSentinelWasNeverToldOfIsEndedByItsMarker() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let sentinel = try GroupSentinel.start(
            executable: AgentBinary.path, subcommand: "group-sentinel", grace: .seconds(2))
        let (unwatched, unwatchedPids) = try await script(marker: sentinel.marker, in: directory, name: "unwatched")
        let (stranger, strangerPids) = try await script(marker: "another-agent", in: directory, name: "stranger")
        defer {
            for pid in strangerPids + unwatchedPids where !ProcessState.isGone(pid) { kill(pid, SIGKILL) }
            _ = unwatched.wait()
            _ = stranger.wait()
        }

        try await onBlockingThread { sentinel.stop() }

        #expect(
            await eventually(within: 10) { unwatchedPids.allSatisfy(ProcessState.isGone) },
            "the script and its background child ended with the agent")
        #expect(!strangerPids.contains(where: ProcessState.isGone), "another agent's script runs on")
    }
}
