import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce sweep` against simulated agents: compliant, not configured, unreachable, failing.
@Suite("quiesce sweep")
struct SweepCommandTests {
    @Test func aSweepCountsAndExplainsEveryVM() async throws {
        let fleet = try await SimulatedFleet(
            count: 4, faults: #"{"agents": {"2": {"refuseConnection": true}, "3": {"fail": ["/v1/compliance"]}}}"#,
            ready: [0, 1, 3])
        defer { fleet.stop() }
        let token = SimulatedFleet.token
        let base = fleet.base
        let first = fleet.agent(0)
        // VM a0 gets a config and its scripts; a1 stays unconfigured.
        let scripts = fleet.home(0) + "/scripts"
        _ = try await first.send(
            "PUT", "/v1/plugin-config", token: token,
            body: Array(#"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#.utf8))
        let script = Array("#!/bin/sh\nexit 0\n".utf8)
        for phase in ["pre", "post"] {
            _ = try await first.send("PUT", "/v1/scripts/\(phase)", token: token, headers: [AgentRoutes.contentSHA256Header: SHA256.hex(of: script)], body: script)
        }
        let vms = (0..<4).map { #"{"name": "a\#($0)", "address": "127.0.0.1:\#(base + $0)", "groups": ["all"]}"# }
        let inventory = try fleet.directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 5}, "groups": {"all": {}}, "vms": [\#(vms.joined(separator: ","))]}"#)

        let result = try await AgentBinary.run(["sweep", "--fleet", inventory, "--json"], program: "quiesce")
        #expect(result.status == 1, "\(result.stderr)")
        let report = try result.json()
        let summary = try #require(report["summary"] as? [String: Int])
        #expect(summary == ["total": 4, "compliant": 1, "nonCompliant": 2, "unreachable": 1])
        let byName = Dictionary(uniqueKeysWithValues: (report["vms"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) })
        #expect(byName["a0"]?["compliant"] as? Bool == true)
        #expect(byName["a0"]?["predictedConsistency"] as? String == "applicationConsistent")
        #expect((byName["a0"]?["scriptHashes"] as? [String: String])?["preScript"] == SHA256.hex(of: script))
        #expect(byName["a1"]?["predictedConsistency"] as? String == "fileSystemConsistent")
        #expect((byName["a1"]?["problems"] as? [String])?.first?.contains("no plugin config") == true)
        #expect(byName["a2"]?["reachable"] as? Bool == false)
        #expect((byName["a2"]?["problems"] as? [String])?.first?.hasPrefix("refused") == true)
        #expect((byName["a3"]?["problems"] as? [String])?.first?.contains("SimulatedFault") == true)
        #expect((report["vms"] as? [[String: Any]])?.last?["name"] as? String == "a0", "failing VMs come first")

        let text = try await AgentBinary.run(["sweep", "--fleet", inventory], program: "quiesce")
        #expect(text.stdout.hasPrefix("4 VMs: 1 compliant, 2 not compliant, 1 unreachable"))
        #expect(text.stdout.contains("UNREACHABLE") && !text.stdout.contains("a0 "))
        let one = try await AgentBinary.run(["sweep", "--fleet", inventory, "--vm", "a0"], program: "quiesce")
        #expect(one.status == 0)
    }
}
