import Foundation
import QuiesceTestSupport
import Testing

/// How a test takes one snapshot through the real binaries: `quiesce-agent run-once`, or
/// `quiesce snapshot` of a group whose one member is the same agent under `serve`, driven phase
/// by phase over HTTP. Either way it returns the JSON report, whose `status` and `consistency`
/// mean the same in both.
enum CycleRoute: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case runOnce
    case groupSnapshot

    var testDescription: String { rawValue }

    /// Runs the cycle with the settings and plugin config `fixture` wrote.
    func run(_ fixture: FrameworkFixture) async throws -> [String: Any] {
        let settings = try fixture.writeSettings()
        switch self {
        case .runOnce:
            return try await AgentBinary.run(["run-once", "--settings", settings, "--json"]).json()
        case .groupSnapshot:
            return try await Self.groupSnapshot(settings: settings, in: fixture.directory)
        }
    }

    /// `serve` with `settings` plus where to listen and its token, an inventory with it as the one
    /// member of group `one`, and `quiesce snapshot --group one`.
    private static func groupSnapshot(settings: String, in directory: TemporaryDirectory) async throws
        -> [String: Any]
    {
        let port = try FreePorts.one()
        let token = try directory.write("agent.token", "route-token-\(UUID().uuidString)\n", mode: 0o600)
        var values = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: settings))) as? [String: Any])
        values["listen"] = "127.0.0.1:\(port)"
        values["auth"] = ["tokenFile": token]
        values["scriptRoot"] = directory.url("pushed")
        values["auditLogPath"] = directory.url("audit.log")
        let serveSettings = try directory.write(
            "serve.json", String(decoding: try JSONSerialization.data(withJSONObject: values), as: UTF8.self),
            mode: 0o600)
        let server = try AgentBinary.start(["serve", "--settings", serveSettings])
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGTERM) } }
        let client = RawHTTPClient(port: port)
        #expect(await eventually(within: 10) { (try? await client.send("GET", "/v1/health"))?.status == 200 })
        let inventory = try directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "\#(token)"}, "groups": {"one": {}}, "#
                + #""vms": [{"name": "db", "address": "127.0.0.1:\#(port)", "groups": ["one"]}]}"#)
        let result = try await AgentBinary.run(
            ["snapshot", "--fleet", inventory, "--group", "one", "--json", "--state", directory.url("coordinator")],
            program: "quiesce")
        kill(server.process.processIdentifier, SIGTERM)
        try await onBlockingThread { server.process.waitUntilExit() }
        return try result.json()
    }
}
