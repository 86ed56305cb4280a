import Foundation
import QuiesceTestSupport
import Testing

/// An agent SIGKILLed in the middle of a session, and started again: it finishes what it left.
@Suite("Agent restart")
struct AgentRestartTests {
    /// The two pids (a script's and its background child's) the script wrote to `name`.
    private func pids(written name: String, in directory: TemporaryDirectory) async -> [pid_t] {
        #expect(await eventually(within: 10) { ((try? directory.read(name)) ?? "").hasSuffix("\n") })
        let pids = ((try? directory.read(name)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
        #expect(pids.count == 2)
        return pids
    }

    @Test func aSessionCutOffDuringItsPreScriptGetsOnePostScriptAfterTheRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.url("ran.log")
        let started = directory.url("pre-started")
        // The pre-script leaves a background child in its group, as a lock holder would.
        try ServeFixture.installScripts(
            directory,
            pre: "echo pre-start >> \(log)\nsleep 300 &\necho $$ $! > \(started)\nwait\necho pre-end >> \(log)",
            post: "echo \"post $QUIESCE_PRE_RESULT $QUIESCE_SNAPSHOT_RESULT\" >> \(log)", freeze: false)
        let (crashed, client) = try await ServeFixture.start(directory)
        defer { if crashed.process.isRunning { kill(crashed.process.processIdentifier, SIGKILL) } }
        _ = try await ServeFixture.session("s", client, through: [])
        let prepare = Task { try? await client.send("POST", "/v1/sessions/s/prepare", token: ServeFixture.token) }
        let scriptPids = await pids(written: "pre-started", in: directory)
        defer { for pid in scriptPids where !ProcessState.isGone(pid) { kill(pid, SIGKILL) } }
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()
        _ = await prepare.value
        #expect(
            await eventually(within: 10) { scriptPids.allSatisfy(ProcessState.isGone) },
            "the pre-script and its background child ended with the agent")

        let (restarted, again) = try await ServeFixture.start(directory, capturingStandardError: true)
        defer {
            kill(restarted.process.processIdentifier, SIGTERM)
            restarted.process.waitUntilExit()
        }
        #expect(
            await eventually(within: 10) {
                (try? await again.send("GET", "/v1/sessions/s", token: ServeFixture.token))?.status == 200
            })
        let state = try await again.send("GET", "/v1/sessions/s", token: ServeFixture.token).json()
        #expect(state["finished"] as? Bool == true)
        #expect(state["finishedBy"] as? String == "restart")
        let report = try #require(state["report"] as? [String: Any])
        #expect(report["status"] as? String == "failed", "never succeeded")
        let errors = report["errors"] as? [[String: Any]] ?? []
        let restart = try #require(errors.first { $0["code"] as? String == "AgentRestarted" })
        #expect((restart["message"] as? String)?.contains("during the pre-script step") == true, "\(restart)")
        #expect((report["postScript"] as? [String: Any])?["result"] as? String == "succeeded")
        #expect(
            try directory.read("ran.log") == "pre-start\npost failed skipped\n",
            "exactly one post-script, told the pre-script did not succeed")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.url("state")).filter {
                $0.hasPrefix("session-")
            }.isEmpty, "the journal entry is done")

        // A third start owes nothing: the post-script is not run again.
        kill(restarted.process.processIdentifier, SIGTERM)
        restarted.process.waitUntilExit()
        let (third, _) = try await ServeFixture.start(directory)
        kill(third.process.processIdentifier, SIGTERM)
        third.process.waitUntilExit()
        #expect(try directory.read("ran.log") == "pre-start\npost failed skipped\n")
    }

    @Test func aSnapshotCommandEndsWithAKilledAgent() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let started = directory.url("snapshot-started")
        try directory.write(
            "snapshot.sh", "#!/bin/sh\nsleep 300 &\necho $$ $! > \(started)\nwait\n", mode: 0o700)
        try ServeFixture.installScripts(directory, pre: "exit 0", post: "exit 0", freeze: false)
        let (crashed, client) = try await ServeFixture.start(
            directory,
            extra: #", "snapshot": {"provider": "command", "command": ["\#(directory.url("snapshot.sh"))"]}"#)
        defer { if crashed.process.isRunning { kill(crashed.process.processIdentifier, SIGKILL) } }
        _ = try await ServeFixture.session("c", client, through: ["prepare"])
        let snapshot = Task { try? await client.send("POST", "/v1/sessions/c/snapshot", token: ServeFixture.token) }
        let pids = await pids(written: "snapshot-started", in: directory)
        defer { for pid in pids where !ProcessState.isGone(pid) { kill(pid, SIGKILL) } }
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()
        _ = await snapshot.value
        #expect(
            await eventually(within: 10) { pids.allSatisfy(ProcessState.isGone) },
            "the snapshot command and its child ended with the agent")
    }

    @Test func newSessionsWaitWhileTheLeftOverPostScriptsRun() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let release = directory.url("release")
        try ServeFixture.installScripts(
            directory, pre: "exit 0",
            post: "while [ ! -e \(release) ]; do sleep 0.05; done", freeze: false)
        let (crashed, client) = try await ServeFixture.start(directory)
        defer { if crashed.process.isRunning { kill(crashed.process.processIdentifier, SIGKILL) } }
        let prepared = try #require(try await ServeFixture.session("old", client, through: ["prepare"]))
        #expect(prepared.status == 200, "\(prepared.text)")
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()

        let (restarted, again) = try await ServeFixture.start(directory)
        defer {
            kill(restarted.process.processIdentifier, SIGTERM)
            restarted.process.waitUntilExit()
        }
        let refused = try await again.send(
            "POST", "/v1/sessions", token: ServeFixture.token, body: Array(#"{"id": "new", "leaseSeconds": 60}"#.utf8))
        #expect(refused.status == 503, "\(refused.text)")
        #expect(try refused.json()["code"] as? String == "Recovering")
        try directory.write("release", "")
        #expect(
            await eventually(within: 10) {
                (try? await again.send(
                    "POST", "/v1/sessions", token: ServeFixture.token,
                    body: Array(#"{"id": "new", "leaseSeconds": 60}"#.utf8)))?.status == 200
            })
        let old = try await again.send("GET", "/v1/sessions/old", token: ServeFixture.token).json()
        #expect(old["finishedBy"] as? String == "restart")
        let report = try #require(old["report"] as? [String: Any])
        let errors = report["errors"] as? [[String: Any]] ?? []
        let restart = try #require(errors.first { $0["code"] as? String == "AgentRestarted" })
        #expect((restart["message"] as? String)?.contains("before the snapshot step") == true, "\(restart)")
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func anAgentKilledWithItsGuardWhileFrozenThawsAndReleasesTheApplicationAfterTheRestart() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.url("ran.log")
        try ServeFixture.installScripts(
            directory, pre: "echo pre >> \(log)",
            post: "echo \"post $QUIESCE_PRE_RESULT $QUIESCE_SNAPSHOT_RESULT\" >> \(log)")
        let freeze = #", "freeze": {"mounts": ["\#(disk.mountPoint)"], "timeoutSeconds": 120}"#
        let (crashed, client) = try await ServeFixture.start(directory, extra: freeze)
        defer { if crashed.process.isRunning { kill(crashed.process.processIdentifier, SIGKILL) } }
        let frozen = try #require(try await ServeFixture.session("f", client, through: ["prepare", "freeze"]))
        #expect(try frozen.json()["frozen"] as? Bool == true, "\(frozen.text)")
        // As systemd's SIGKILL of the whole unit: neither can thaw on its way out. The agent is
        // stopped first so that it cannot see its guard die and thaw.
        let guardPid = try #require(
            Int32(
                try Shell.run(["pgrep", "-f", "freeze-guard .*\(disk.mountPoint)"]).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        kill(crashed.process.processIdentifier, SIGSTOP)
        kill(guardPid, SIGKILL)
        kill(crashed.process.processIdentifier, SIGKILL)
        crashed.process.waitUntilExit()
        #expect(try !disk.acceptsWrites(within: 0.2), "left frozen by the crash")

        let (restarted, again) = try await ServeFixture.start(directory, extra: freeze)
        defer {
            kill(restarted.process.processIdentifier, SIGTERM)
            restarted.process.waitUntilExit()
        }
        #expect(try disk.acceptsWrites(within: 5), "the restarted agent thawed it")
        #expect(
            await eventually(within: 10) {
                (try? await again.send("GET", "/v1/sessions/f", token: ServeFixture.token))?.status == 200
            })
        let state = try await again.send("GET", "/v1/sessions/f", token: ServeFixture.token).json()
        #expect(state["finishedBy"] as? String == "restart")
        let report = try #require(state["report"] as? [String: Any])
        #expect(report["status"] as? String == "failed")
        let errors = report["errors"] as? [[String: Any]] ?? []
        let restart = try #require(errors.first { $0["code"] as? String == "AgentRestarted" })
        #expect((restart["message"] as? String)?.contains("while the file systems were frozen") == true)
        #expect(try directory.read("ran.log") == "pre\npost succeeded failed\n", "one post-script, told why")
    }
}
