import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient
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
        let first = fleet.agent(0)
        // VM a0 gets a config and its scripts; a1 stays unconfigured.
        let scripts = fleet.scriptRoot
        _ = try await first.send(
            "PUT", "/v1/plugin-config", token: token,
            body: Array(
                #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#.utf8))
        let script = Array("#!/bin/sh\nexit 0\n".utf8)
        for phase in ["pre", "post"] {
            _ = try await first.send(
                "PUT", "/v1/scripts/\(phase)", token: token,
                headers: [AgentRoutes.contentSHA256Header: ContentHash.sha256(of: script)], body: script)
        }
        let inventory = try fleet.inventory(count: 4)

        let result = try await fleet.coordinator(["sweep", "--fleet", inventory, "--json"])
        #expect(result.status == 1, "\(result.stderr)")
        let report = try result.json()
        let summary = try #require(report["summary"] as? [String: Int])
        #expect(summary == ["total": 4, "compliant": 1, "nonCompliant": 2, "unreachable": 1])
        let byName = Dictionary(
            uniqueKeysWithValues: (report["vms"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) })
        #expect(byName["a0"]?["compliant"] as? Bool == true)
        #expect(byName["a0"]?["predictedConsistency"] as? String == "applicationConsistent")
        #expect(byName["a0"]?["wouldFreeze"] as? [String] == ["/simulated/agent-0"])
        #expect((byName["a0"]?["fileHashes"] as? [String: String])?["preScript"] == ContentHash.sha256(of: script))
        #expect(byName["a1"]?["predictedConsistency"] as? String == "fileSystemConsistent")
        #expect((byName["a1"]?["problems"] as? [String])?.first?.contains("no plugin config") == true)
        #expect(byName["a2"]?["reachable"] as? Bool == false)
        #expect((byName["a2"]?["problems"] as? [String])?.first?.hasPrefix("refused") == true)
        #expect((byName["a3"]?["problems"] as? [String])?.first?.contains("SimulatedFault") == true)
        #expect((report["vms"] as? [[String: Any]])?.last?["name"] as? String == "a0", "failing VMs come first")

        let text = try await fleet.coordinator(["sweep", "--fleet", inventory])
        #expect(text.stdout.hasPrefix("4 VMs: 1 compliant, 2 not compliant, 1 unreachable"))
        #expect(text.stdout.contains("UNREACHABLE") && !text.stdout.contains("a0 "))
        #expect(!text.stdout.contains("\u{1B}"), "no colour codes when piped")

        // On a terminal (script(1) gives it one): a progress bar and colour.
        let quiesce = AgentBinary.path(of: "quiesce")
        let onTerminal = try await onBlockingThread {
            try Shell.status([
                "script", "-qec",
                "env -u NO_COLOR TERM=xterm \(quiesce) sweep --fleet \(inventory) --state "
                    + "\(fleet.directory.url("state"))",
                "/dev/null",
            ]).output
        }
        #expect(onTerminal.contains("sweep [") && onTerminal.contains("] 4/4"), "\(onTerminal)")
        #expect(onTerminal.contains("\u{1B}[1;31mUNREACHABLE"))
        let one = try await fleet.coordinator(["sweep", "--fleet", inventory, "--vm", "a0"])
        #expect(one.status == 0)
    }

    /// What was last pushed is read from the history while the requests run. When that read
    /// fails, every VM is still checked and the report says that drift went unchecked, and why.
    @Test func aSweepWhoseExpectationsCannotBeReadStillChecksEveryVMAndSaysSo() async throws {
        let fleet = try await SimulatedFleet(count: 2)
        defer { fleet.stop() }
        let inventory = try FleetInventory.load(path: try fleet.inventory(count: 2))
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 4), requestTimeout: .seconds(10))
        struct Unreadable: Error, CustomStringConvertible {
            var description: String { "cannot read the history database h.sqlite" }
        }
        let report = await Sweep.run(inventory.vms, agents: agents, expected: { throw Unreadable() })
        #expect(report.vms.map(\.name).sorted() == ["a0", "a1"])
        #expect(report.vms.allSatisfy { $0.reachable && $0.agentVersion != nil })
        #expect(
            report.warnings == ["drift from the last push was not checked: cannot read the history database h.sqlite"])

        let expected = await Sweep.run(
            inventory.vms, agents: agents,
            expected: { ["a0": ["preScript": .init(sha256: "aaaa", origin: "push run 4")]] })
        #expect(expected.warnings.isEmpty)
        let a0 = try #require(expected.vms.first { $0.name == "a0" })
        #expect(a0.drifted == ["preScript"], "the expectation read alongside is compared: \(a0.problems)")
    }
}
