import Foundation
import QuiesceTestSupport
import Testing

/// `serve` and SIGHUP: tokens rotated with a moment where both work and none where neither does,
/// a certificate replaced for the next connection, and an unusable reload that changes nothing.
@Suite("Credential reload")
struct CredentialReloadTests {
    private static let old = "old-token-0123456789abcdef"
    private static let new = "new-token-0123456789abcdef"

    /// The statuses `/v1/version` answers to the old and the new token.
    private func statuses(_ client: RawHTTPClient) async throws -> [Int] {
        [
            try await client.send("GET", "/v1/version", token: Self.old).status,
            try await client.send("GET", "/v1/version", token: Self.new).status,
        ]
    }

    /// Sends SIGHUP, then waits until the agent answers as `expected`.
    private func reload(
        _ server: AgentBinary.Started, _ client: RawHTTPClient, until expected: [Int]
    ) async throws -> Bool {
        kill(server.process.processIdentifier, SIGHUP)
        return try await eventually(within: 10) { try await statuses(client) == expected }
    }

    @Test func aTokenIsRotatedWithoutAMomentWhenTheCoordinatorIsShutOut() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let port = try FreePorts.one()
        let oldFile = try directory.write("old.token", Self.old + "\n", mode: 0o600)
        let newFile = directory.url("new.token")
        func settings(_ auth: String) throws {
            _ = try directory.write(
                "agent.json",
                #"{"listen": "127.0.0.1:\#(port)", "requiredOwnerUid": \#(geteuid()), "auth": \#(auth), "#
                    + #""pluginConfigPath": "\#(directory.url("config.json"))", "#
                    + #""stateDirectory": "\#(directory.url("state"))", "scriptRoot": "\#(directory.url("scripts"))", "#
                    + #""auditLogPath": "\#(directory.url("audit.log"))"}"#)
        }
        try settings(#"{"tokenFile": "\#(oldFile)"}"#)
        let server = try AgentBinary.start(
            ["serve", "--settings", directory.url("agent.json")], capturingStandardError: true)
        let client = RawHTTPClient(port: port)
        #expect(await eventually(within: 10) { (try? await client.send("GET", "/v1/health"))?.status == 200 })
        #expect(try await statuses(client) == [200, 401])

        // The new token beside the old: both work while the coordinators change over.
        _ = try directory.write("new.token", Self.new + "\n", mode: 0o600)
        try settings(#"{"tokenFile": "\#(oldFile)", "tokenFiles": ["\#(newFile)"]}"#)
        #expect(try await reload(server, client, until: [200, 200]))

        // An unusable new file (others may read it): nothing changes, and the agent says why.
        chmod(newFile, 0o644)
        try settings(#"{"tokenFile": "\#(newFile)"}"#)
        kill(server.process.processIdentifier, SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await statuses(client) == [200, 200], "the tokens in use stay")

        // Then the old one retired.
        chmod(newFile, 0o600)
        #expect(try await reload(server, client, until: [401, 200]))

        kill(server.process.processIdentifier, SIGTERM)
        try await onBlockingThread { server.process.waitUntilExit() }
        let errors = String(decoding: server.errors!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(
            errors.contains("SIGHUP: nothing reloaded, the ones in use stay: the token file is not private"),
            "\(errors)")
        #expect(errors.contains("SIGHUP: reloaded 2 tokens"), "\(errors)")
    }

    @Test func aRenewedCertificateServesTheNextConnection() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        let port = try FreePorts.one()
        let fleet = try directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "agent.token", "tls": {"caFile": "\#(ca)/ca.pem", "#
                + #""certificateFile": "\#(ca)/coordinator.pem", "keyFile": "\#(ca)/coordinator.key"}}, "#
                + #""vms": [{"name": "a0", "address": "127.0.0.1:\#(port)"}]}"#)
        func quiesce(_ arguments: [String]) async throws -> AgentBinary.Result {
            try await AgentBinary.run(arguments, program: "quiesce")
        }
        #expect(try await quiesce(["ca", "init", "--dir", ca]).status == 0)
        let issue = ["ca", "issue", "--dir", ca, "--vm", "a0", "--fleet", fleet]
        #expect(try await quiesce(issue + ["--coordinator", "--days", "100"]).status == 0)
        let server = try ServeFixture.startWithCertificate(of: "a0", from: ca, in: directory, port: port)
        defer {
            kill(server.process.processIdentifier, SIGTERM)
            server.process.waitUntilExit()
        }
        func daysLeft() async throws -> Int? {
            let report = try await quiesce(["sweep", "--fleet", fleet, "--json"]).json()
            guard let vm = (report["vms"] as? [[String: Any]])?.first,
                let notAfter = vm["certificateNotAfter"] as? String,
                let date = try? Date(notAfter, strategy: .iso8601)
            else { return nil }
            return Int(date.timeIntervalSinceNow / 86_400)
        }
        #expect(try await eventually(within: 10) { try await daysLeft() == 99 })

        // Renewed on disk (a new key too), then SIGHUP: the next connection gets the new one.
        #expect(try await quiesce(issue + ["--days", "10"]).status == 0)
        kill(server.process.processIdentifier, SIGHUP)
        #expect(try await eventually(within: 10) { try await daysLeft() == 9 }, "the renewed certificate is served")
    }

    @Test func anExpiredCertificateIsRefusedWithItsDatesAndTheFix() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Valid in January 2020 only: `openssl ca` is the one tool here that sets both dates.
        let expired = directory.url("expired")
        try FileManager.default.createDirectory(atPath: expired, withIntermediateDirectories: false)
        _ = try directory.write("expired/index.txt", "")
        _ = try directory.write("expired/serial", "01\n")
        let config = try directory.write(
            "expired/ca.cnf",
            "[ca]\ndefault_ca = x\n[x]\ndatabase = \(expired)/index.txt\nserial = \(expired)/serial\n"
                + "new_certs_dir = \(expired)\ndefault_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n")
        try Shell.run([
            "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            "\(expired)/key.pem", "-out", "\(expired)/csr.pem", "-subj", "/CN=127.0.0.1",
        ])
        try Shell.run([
            "openssl", "ca", "-batch", "-config", config, "-selfsign", "-keyfile", "\(expired)/key.pem", "-in",
            "\(expired)/csr.pem", "-out", "\(expired)/cert.pem", "-startdate", "20200101000000Z", "-enddate",
            "20200201000000Z",
        ])
        let port = try FreePorts.one()
        let settings = try ServeFixture.settings(
            directory, listen: "127.0.0.1:\(port)",
            extra: #", "tls": {"certificateFile": "\#(expired)/cert.pem", "keyFile": "\#(expired)/key.pem"}"#)
        let refused = try await AgentBinary.run(["serve", "--settings", settings])
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains(
                "tls.certificateFile \(expired)/cert.pem is valid from 2020-01-01T00:00:00Z to "
                    + "2020-02-01T00:00:00Z, not now: issue a new one"), "\(refused.stderr)")
    }
}
