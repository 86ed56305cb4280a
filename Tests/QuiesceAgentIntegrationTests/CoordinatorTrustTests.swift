import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// What the coordinator will not do with its secrets and its memory, whatever the inventory or
/// the network says.
@Suite("Coordinator trust")
struct CoordinatorTrustTests {
    private static func problems(_ result: AgentBinary.Result) throws -> [String: String] {
        let vms = try result.json()["vms"] as? [[String: Any]] ?? []
        return Dictionary(
            uniqueKeysWithValues: vms.map {
                ($0["name"] as? String ?? "", ($0["problems"] as? [String])?.first ?? "")
            })
    }

    @Test func noTokenGoesInPlaintextToANonLoopbackAgent() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        // 198.18.0.0/15 is for network tests; nothing is sent there: the call is refused first.
        let inventory = try fleet.inventory(
            count: 3, extra: [2: #""insecurePlaintext": false"#],
            addresses: [1: "198.18.0.7:7710", 2: "198.18.0.8:7710"])
        let result = try await fleet.coordinator(["sweep", "--fleet", inventory, "--json"])
        let problems = try Self.problems(result)
        #expect(problems["a0"]?.contains("plaintext") == false, "loopback is fine: \(problems)")
        #expect(problems["a1"]?.contains("would cross the network in plaintext") == true, "\(problems)")
        #expect(problems["a1"]?.contains("insecurePlaintext") == true)
        #expect(problems["a2"]?.contains("plaintext") == true)
    }

    @Test func aTokenFileOthersCanReadIsNotUsed() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 1)
        try fleet.directory.chmod("token", 0o644)
        let result = try await fleet.coordinator(["sweep", "--fleet", inventory, "--json"])
        let problem = try Self.problems(result)["a0"] ?? ""
        #expect(problem.contains("can be read by others (mode 644)") && problem.contains("chmod 0600"), "\(problem)")
    }

    @Test func aProxyFromTheEnvironmentIsNeverUsed() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 1)
        let quiesce = AgentBinary.path(of: "quiesce")
        // A proxy that would take the token: nothing listens on port 9 (discard), so any use of it fails.
        let output = try await onBlockingThread {
            try Shell.status([
                "env", "http_proxy=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "all_proxy=http://127.0.0.1:9",
                quiesce, "inventory", "--fleet", inventory,
            ])
        }
        #expect(output.status == 0)
        let swept = try await onBlockingThread {
            try Shell.status([
                "env", "http_proxy=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9", "all_proxy=http://127.0.0.1:9",
                quiesce, "sweep", "--fleet", inventory, "--state", fleet.directory.url("state"), "--json",
            ])
        }
        #expect(swept.output.contains(#""reachable" : true"#), "\(swept.output)")
    }

    @Test func theHistoryDatabaseIsPrivate() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        _ = try await fleet.coordinator(["sweep", "--fleet", try fleet.inventory(count: 1)])
        let mode =
            try FileManager.default.attributesOfItem(atPath: fleet.directory.url("state/history.sqlite"))[
                .posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
