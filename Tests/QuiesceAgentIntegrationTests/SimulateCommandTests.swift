import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// The fleet simulator: real agents in one process, with the faults its plan asks for.
@Suite("quiesce-agent simulate")
struct SimulateCommandTests {
    @Test func simulatedAgentsAnswerForRealAndMisbehaveAsPlanned() async throws {
        let fleet = try await SimulatedFleet(
            count: 5,
            faults:
                #"{"agents": {"1": {"refuseConnection": true}, "2": {"dropConnection": true}, "3": {"latencyMs": "#
                + #"{"/v1/compliance": 300}}, "4": {"fail": ["freeze"]}}}"#,
            ready: [0, 3, 4])
        defer { fleet.stop() }
        let token = SimulatedFleet.token
        let agent = fleet.agent

        // Agent 0 is a working agent: a push, then a whole session over a simulated freeze.
        let config = Array(#"{"preScriptLocation": "", "postScriptLocation": ""}"#.utf8)
        #expect(try await agent(0).send("PUT", "/v1/plugin-config", token: token, body: config).status == 200)
        #expect(FileManager.default.fileExists(atPath: fleet.home(0) + "/VMSnapshotScriptPluginConfig.json"))
        _ = try await agent(0).send(
            "POST", "/v1/sessions", token: token, body: Array(#"{"id": "g1", "leaseSeconds": 60}"#.utf8))
        _ = try await agent(0).send("POST", "/v1/sessions/g1/prepare", token: token)
        let frozen = try await agent(0).send("POST", "/v1/sessions/g1/freeze", token: token)
        #expect(try frozen.json()["frozen"] as? Bool == true)
        #expect(try await agent(0).send("GET", "/v1/version").status == 401, "authentication is real")

        await #expect(throws: (any Error).self, "agent 1 refuses connections") {
            _ = try await agent(1).send("GET", "/v1/health")
        }
        await #expect(throws: (any Error).self, "agent 2 drops them") {
            _ = try await agent(2).send("GET", "/v1/health")
        }
        let start = Date()
        #expect(try await agent(3).send("GET", "/v1/compliance", token: token).status == 200)
        #expect(Date().timeIntervalSince(start) >= 0.3, "agent 3 answers late")
        _ = try await agent(4).send(
            "POST", "/v1/sessions", token: token, body: Array(#"{"id": "g1", "leaseSeconds": 60}"#.utf8))
        _ = try await agent(4).send("POST", "/v1/sessions/g1/prepare", token: token)
        let failed = try await agent(4).send("POST", "/v1/sessions/g1/freeze", token: token)
        #expect(failed.status == 500)
        #expect(try failed.json()["code"] as? String == "SimulatedFault")
    }

    @Test func aFleetSplitOverProcessesNumbersItsAgentsFromFirst() async throws {
        let fleet = try await SimulatedFleet(count: 2, first: 3)
        defer { fleet.stop() }
        let config = Array(#"{"preScriptLocation": "", "postScriptLocation": ""}"#.utf8)
        let pushed = try await fleet.agent(4).send(
            "PUT", "/v1/plugin-config", token: SimulatedFleet.token, body: config)
        #expect(pushed.status == 200)
        #expect(FileManager.default.fileExists(atPath: fleet.home(4) + "/VMSnapshotScriptPluginConfig.json"))
        #expect(!FileManager.default.fileExists(atPath: fleet.home(0)), "agents 0 to 2 belong to another process")
        await #expect(throws: (any Error).self, "nothing listens for agent 2") {
            _ = try await fleet.agent(2).send("GET", "/v1/health")
        }
    }

    @Test func instantScriptsAreReportedAsSucceededWithoutRunning() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let token = SimulatedFleet.token
        let agent = fleet.agent(0)
        let scripts = fleet.scriptRoot
        let config = Array(
            #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#.utf8)
        #expect(try await agent.send("PUT", "/v1/plugin-config", token: token, body: config).status == 200)
        let marker = fleet.directory.url("ran")
        let script = Array("#!/bin/sh\ntouch \(marker)\n".utf8)
        for phase in ["pre", "post"] {
            let pushed = try await agent.send(
                "PUT", "/v1/scripts/\(phase)", token: token,
                headers: ["X-Content-SHA256": ContentHash.sha256(of: script)],
                body: script)
            #expect(pushed.status == 200, "\(pushed.text)")
        }
        _ = try await agent.send(
            "POST", "/v1/sessions", token: token, body: Array(#"{"id": "i", "leaseSeconds": 60}"#.utf8))
        let prepared = try await agent.send("POST", "/v1/sessions/i/prepare", token: token).json()
        let report = try #require(prepared["report"] as? [String: Any])
        #expect((report["preScript"] as? [String: Any])?["result"] as? String == "succeeded")
        #expect(!FileManager.default.fileExists(atPath: marker), "nothing was started")
    }
}
