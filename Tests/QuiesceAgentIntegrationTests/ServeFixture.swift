import Foundation
import QuiesceTestSupport
import Testing

/// `quiesce-agent serve` as a process in a temp dir: its settings, token, scripts and sessions.
enum ServeFixture {
    /// Settings for `serve` in a temp dir, with a token file; returns the settings path.
    static func settings(_ directory: TemporaryDirectory, listen: String, extra: String = "") throws -> String {
        try directory.write("agent.token", token + "\n", mode: 0o600)
        return try directory.write(
            "agent.json",
            """
            {"listen": "\(listen)", "requiredOwnerUid": \(geteuid()), "auth": {"tokenFile":
            "\(directory.url("agent.token"))"},
             "pluginConfigPath": "\(directory.url("config.json"))", "stateDirectory": "\(directory.url("state"))",
             "scriptRoot": "\(directory.url("scripts"))", "auditLogPath": "\(directory.url("audit.log"))"\(extra)}
            """)
    }

    static let token = "serve-test-token-0123456789"

    /// `serve` on a free loopback port with these settings, once it answers `/v1/health`.
    static func start(
        _ directory: TemporaryDirectory, extra: String = "", capturingStandardError: Bool = false
    ) async throws -> (server: AgentBinary.Started, client: RawHTTPClient) {
        let port = try FreePorts.one()
        let path = try settings(directory, listen: "127.0.0.1:\(port)", extra: extra)
        let server = try AgentBinary.start(
            ["serve", "--settings", path], capturingStandardError: capturingStandardError)
        let client = RawHTTPClient(port: port)
        #expect(await eventually(within: 10) { (try? await client.send("GET", "/v1/health"))?.status == 200 })
        return (server, client)
    }

    /// `serve` on `port` with mutual TLS: the certificate and key `quiesce ca issue` made for `vm`
    /// in the CA directory `ca`, and that CA for its clients. Not waited for: plain HTTP cannot ask.
    static func startWithCertificate(
        of vm: String, from ca: String, in directory: TemporaryDirectory, port: Int
    ) throws -> AgentBinary.Started {
        let path = try settings(
            directory, listen: "127.0.0.1:\(port)",
            extra: #", "tls": {"certificateFile": "\#(ca)/agents/\#(vm).pem", "keyFile": "\#(ca)/agents/\#(vm).key", "#
                + #""clientCAFile": "\#(ca)/ca.pem"}"#)
        return try AgentBinary.start(["serve", "--settings", path])
    }

    /// `scripts/pre.sh` and `scripts/post.sh` with these bodies, and a plugin config naming them.
    static func installScripts(
        _ directory: TemporaryDirectory, pre: String, post: String, freeze: Bool = true
    ) throws {
        try directory.write("scripts/pre.sh", "#!/bin/sh\n\(pre)\n", mode: 0o700)
        try directory.write("scripts/post.sh", "#!/bin/sh\n\(post)\n", mode: 0o700)
        try directory.write(
            "config.json",
            #"{"preScriptLocation": "\#(directory.url("scripts/pre.sh"))", "postScriptLocation": "#
                + #""\#(directory.url("scripts/post.sh"))", "fsFreezeEnabled": \#(freeze)}"#)
    }

    /// Creates session `id` and runs its phases up to `phases`.
    static func session(_ id: String, _ client: RawHTTPClient, through phases: [String]) async throws
        -> RawHTTPClient.Response?
    {
        _ = try await client.send(
            "POST", "/v1/sessions", token: token, body: Array(#"{"id": "\#(id)", "leaseSeconds": 600}"#.utf8))
        var last: RawHTTPClient.Response?
        for phase in phases { last = try await client.send("POST", "/v1/sessions/\(id)/\(phase)", token: token) }
        return last
    }
}
