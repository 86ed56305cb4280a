import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// Snapshot sessions over the live API: phases, idempotence, ordering, one at a time, leases.
@Suite("Snapshot sessions")
struct SessionAPITests {
    private func post(_ server: ServerFixture, _ path: String, _ json: String = "") async throws
        -> RawHTTPClient.Response
    {
        try await server.send("POST", path, body: Array(json.utf8))
    }

    private func create(_ server: ServerFixture, _ id: String, lease: Int = 60) async throws -> RawHTTPClient.Response {
        try await post(server, AgentRoutes.sessions, #"{"id": "\#(id)", "leaseSeconds": \#(lease)}"#)
    }

    @Test func aSessionRunsPhaseByPhaseAndRetriesRunNothingTwice() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        try server.installFramework(freeze: false)
        let created = try await create(server, "s-1")
        #expect(created.status == 200, "\(created.text)")
        #expect(try created.json()["nextPhase"] as? String == "prepare")
        let prepared = try await post(server, AgentRoutes.session("s-1", .prepare))
        let afterPrepare = try prepared.json()
        #expect((afterPrepare["report"] as? [String: Any])?["status"] as? String == "inProgress")
        #expect((afterPrepare["report"] as? [String: Any])?["consistency"] as? String == "applicationConsistent")
        #expect(afterPrepare["nextPhase"] as? String == "snapshot", "no freeze with fsFreezeEnabled false")
        _ = try await post(server, AgentRoutes.session("s-1", .prepare))
        _ = try await create(server, "s-1")
        #expect(server.ranLog == ["pre s-1"], "a retried prepare or create runs nothing again")
        #expect(
            try await post(server, AgentRoutes.session("s-1", .freeze)).status == 200,
            "a skipped phase answers with the state")
        #expect(try await post(server, AgentRoutes.session("s-1", .snapshot)).status == 200)
        #expect(try await post(server, AgentRoutes.session("s-1", .thaw)).status == 200)
        let finished = try await post(server, AgentRoutes.session("s-1", .finish))
        let state = try finished.json()
        #expect(state["finished"] as? Bool == true)
        #expect(state["finishedBy"] as? String == "coordinator")
        #expect((state["report"] as? [String: Any])?["status"] as? String == "succeeded")
        #expect(server.ranLog == ["pre s-1", "post s-1 succeeded taken"])
        let again = try await post(server, AgentRoutes.session("s-1", .finish))
        #expect(try again.json()["finished"] as? Bool == true)
        #expect(server.ranLog.count == 2)
        let read = try await server.send("GET", AgentRoutes.session("s-1"))
        #expect(try read.json()["finished"] as? Bool == true)
        let metrics = try await server.send("GET", AgentRoutes.metrics).text
        #expect(
            metrics.contains(#"quiesce_agent_sessions_total{status="succeeded",consistency="applicationConsistent"} 1"#)
        )
        #expect(metrics.contains(#"quiesce_agent_script_seconds_count{phase="pre"} 1"#))
    }

    @Test func phasesCannotSkipAheadAndOneSessionRunsAtATime() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        try server.installFramework(freeze: false)
        _ = try await create(server, "first")
        let early = try await post(server, AgentRoutes.session("first", .thaw))
        #expect(early.status == 409)
        #expect(try (early.json()["message"] as? String)?.contains("thaw comes after prepare") == true)
        #expect(server.ranLog.isEmpty, "refusing the thaw ran nothing")
        let second = try await create(server, "second")
        #expect(second.status == 409)
        #expect(try second.json()["code"] as? String == "Busy")
        #expect(try await server.send("GET", AgentRoutes.session("nope")).status == 404)
        let push = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())
        #expect(push.status == 409, "no pushes while a session is under way")
        #expect(try push.json()["code"] as? String == "Frozen")
        let version = try await server.send("GET", AgentRoutes.version)
        #expect(try version.json()["activeSession"] as? String == "first")
    }

    @Test func requestsAreStrict() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let unknown = try await post(server, AgentRoutes.sessions, #"{"id": "x", "leaseSeconds": 5, "force": true}"#)
        #expect(unknown.status == 400)
        #expect(try (unknown.json()["message"] as? String)?.contains("unknown field `force`") == true)
        let wrongType = try await post(server, AgentRoutes.sessions, #"{"id": "x", "leaseSeconds": "5"}"#)
        #expect(wrongType.status == 400)
        let badId = try await post(server, AgentRoutes.sessions, #"{"id": "../x", "leaseSeconds": 5}"#)
        #expect(badId.status == 400)
        let garbage = try await post(server, AgentRoutes.sessions, "{")
        #expect(garbage.status == 400)
    }

    @Test func aFreezeInstantFarAheadOrMisspeltIsRefusedAndFreezesNothing() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        try server.installFramework(freeze: false)
        _ = try await create(server, "s-at")
        _ = try await post(server, AgentRoutes.session("s-at", .prepare))
        let ahead = QuiesceJSON.timestamp(Date().addingTimeInterval(60))
        let far = try await post(server, AgentRoutes.session("s-at", .freeze), #"{"freezeAt": "\#(ahead)"}"#)
        #expect(far.status == 400)
        #expect(
            try (far.json()["message"] as? String)?.contains("ahead of this agent's clock, more than the 10 s allowed")
                == true)
        let misspelt = try await post(server, AgentRoutes.session("s-at", .freeze), #"{"freezeAtt": "\#(ahead)"}"#)
        #expect(misspelt.status == 400)
        let notATime = try await post(server, AgentRoutes.session("s-at", .freeze), #"{"freezeAt": "soon"}"#)
        #expect(notATime.status == 400)
        let state = try await server.send("GET", AgentRoutes.session("s-at")).json()
        #expect(state["nextPhase"] as? String == "snapshot", "refused requests ran no phase")
        let soon = QuiesceJSON.timestamp(Date().addingTimeInterval(0.05))
        let ok = try await post(server, AgentRoutes.session("s-at", .freeze), #"{"freezeAt": "\#(soon)"}"#)
        #expect(ok.status == 200, "\(ok.text)")
    }

    @Test func anAbortedSessionTakesNoSnapshotButReleasesTheApplication() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        try server.installFramework(freeze: false)
        _ = try await create(server, "abort-me")
        _ = try await post(server, AgentRoutes.session("abort-me", .prepare))
        let finished = try await post(
            server, AgentRoutes.session("abort-me", .finish), #"{"abortReason": "member db-2 failed its pre-script"}"#)
        let report = try #require(try finished.json()["report"] as? [String: Any])
        #expect(report["status"] as? String == "failed")
        #expect((report["snapshot"] as? [String: Any])?["taken"] as? Bool == false)
        let errors = report["errors"] as? [[String: Any]] ?? []
        #expect(errors.first?["code"] as? String == "SessionAborted")
        #expect((errors.first?["message"] as? String)?.contains("member db-2 failed its pre-script") == true)
        #expect(server.ranLog == ["pre abort-me", "post abort-me succeeded skipped"])
    }

    @Test func aSessionWhoseLeaseRunsOutIsFinishedByTheAgent() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        try server.installFramework(freeze: false)
        _ = try await create(server, "forgotten", lease: 3)
        _ = try await post(server, AgentRoutes.session("forgotten", .prepare))
        // The post-script ends a moment before the session is marked finished: wait for the latter,
        // asking /v1/version, which (unlike reading the session) does not renew the lease.
        #expect(
            await eventually(within: 20) {
                let version = try? await server.send("GET", AgentRoutes.version).json()
                return server.ranLog.count == 2 && version != nil && version?["activeSession"] == nil
            })
        let state = try await server.send("GET", AgentRoutes.session("forgotten")).json()
        #expect(state["finishedBy"] as? String == "leaseExpiry")
        #expect(server.ranLog.last == "post forgotten succeeded skipped")
        #expect(try await create(server, "next").status == 200, "a new session may start")
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func aLeaseThatExpiresMidFreezeThawsAndRunsThePostScript() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let server = try await ServerFixture.start { settings in
            settings.requiredOwnerUid = 0
            settings.freeze.mounts = [disk.mountPoint]
        }
        defer { server.stop() }
        try server.installFramework(freeze: true)
        // Long enough that a loaded machine still gets the freeze request in within the lease: a
        // test process running many others may leave this one waiting for seconds.
        _ = try await create(server, "mid-freeze", lease: 15)
        _ = try await post(server, AgentRoutes.session("mid-freeze", .prepare))
        let frozen = try await post(server, AgentRoutes.session("mid-freeze", .freeze)).json()
        #expect(frozen["frozen"] as? Bool == true)
        #expect(try await server.send("GET", AgentRoutes.health, authorized: false).json()["frozen"] as? Bool == true)
        #expect(try !disk.acceptsWrites(within: 0.2))
        let auditLines = {
            ((try? String(contentsOfFile: server.settings.server.auditLogPath, encoding: .utf8)) ?? "").split(
                separator: "\n"
            ).count
        }
        #expect(auditLines() == 2, "the freeze request's line waits in memory while frozen")
        // The coordinator vanishes here.
        #expect(await eventually(within: 45) { server.ranLog.count == 2 })
        #expect(try disk.acceptsWrites(within: 2))
        #expect(await eventually(within: 5) { auditLines() == 3 }, "and is written after the thaw")
        let state = try await server.send("GET", AgentRoutes.session("mid-freeze")).json()
        #expect(state["finishedBy"] as? String == "leaseExpiry")
        let report = try #require(state["report"] as? [String: Any])
        #expect(report["status"] as? String == "failed")
        #expect((report["freeze"] as? [String: Any])?["mounts"] as? [String] == [disk.mountPoint])
    }
}
