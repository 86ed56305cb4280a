import Foundation
import QuiesceTestSupport
import Testing

/// Who may read `quiesce serve`: beyond loopback only over TLS with a token or a client
/// certificate; the token as Bearer or as HTTP Basic's password, which browsers ask for.
@Suite("quiesce serve: access")
struct CoordinatorServeAccessTests {
    @Test func aTokenOverTLSLetsInBearerAndBasicCallersAndNobodyElse() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let pki = try TestPKI(in: fleet.directory)
        let token = "dashboard-token-0123456789abcdef"
        let tokenFile = try fleet.directory.write("dashboard.token", token + "\n")
        let inventory = try fleet.inventory(count: 1)
        let port = try FreePorts.one()
        let service = try AgentBinary.start(
            [
                "serve", "--fleet", inventory, "--listen", "127.0.0.1:\(port)", "--state", fleet.directory.url("state"),
                "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--token-file", tokenFile,
            ],
            capturingStandardError: true, program: "quiesce")
        defer {
            kill(service.process.processIdentifier, SIGTERM)
            service.process.waitUntilExit()
        }
        let base = "https://127.0.0.1:\(port)"
        func status(_ path: String, _ extra: [String] = []) throws -> String {
            try Shell.status(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pki.caCertificate] + extra
                    + [base + path]
            ).output
        }
        #expect(await eventually(within: 15) { (try? status("/v1/health")) == "200" }, "health stays open")
        #expect(try status("/") == "401")
        #expect(try status("/metrics") == "401")
        let challenge = try Shell.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert", pki.caCertificate, base])
        #expect(challenge.contains(#"WWW-Authenticate: Basic realm="quiesce serve""#), "\(challenge)")
        #expect(try status("/", ["-H", "Authorization: Bearer \(token)"]) == "200")
        #expect(try status("/metrics", ["-H", "Authorization: Bearer \(token)"]) == "200")
        #expect(try status("/vms/a0", ["-u", "anyone:\(token)"]) == "200", "Basic: the password is the token")
        #expect(try status("/", ["-u", "anyone:not-the-token-at-all"]) == "401")
        #expect(try status("/", ["-H", "Authorization: Bearer \(token)x"]) == "401")
        let plain = try Shell.status(["curl", "-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/v1/health"])
        #expect(plain.status != 0 || plain.output != "200", "plain HTTP to the TLS port gets nowhere")
    }

    @Test func mutualTLSLetsInOnlyClientsWithACertificateFromTheCA() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let pki = try TestPKI(in: fleet.directory)
        let inventory = try fleet.inventory(count: 1)
        let port = try FreePorts.one()
        let service = try AgentBinary.start(
            [
                "serve", "--fleet", inventory, "--listen", "127.0.0.1:\(port)", "--state", fleet.directory.url("state"),
                "--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey, "--client-ca", pki.caCertificate,
            ],
            capturingStandardError: true, program: "quiesce")
        defer {
            kill(service.process.processIdentifier, SIGTERM)
            service.process.waitUntilExit()
        }
        let url = "https://127.0.0.1:\(port)/"
        let withCertificate = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pki.caCertificate, "--cert",
            pki.clientCertificate, "--key", pki.clientKey, url,
        ]
        #expect(await eventually(within: 15) { (try? Shell.run(withCertificate)) == "200" })
        let without = try Shell.status(["curl", "-s", "-o", "/dev/null", "--cacert", pki.caCertificate, url])
        #expect(without.status != 0, "no client certificate: the handshake fails")
        let rogue = try TestPKI(in: fleet.directory, name: "rogue")
        let foreign = try Shell.status([
            "curl", "-s", "-o", "/dev/null", "--cacert", pki.caCertificate, "--cert", rogue.clientCertificate, "--key",
            rogue.clientKey, url,
        ])
        #expect(foreign.status != 0, "a certificate from another CA is refused the same way")
    }

    @Test func missingOrUnusableCredentialsAreRefusedNamingTheFix() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let pki = try TestPKI(in: fleet.directory)
        let inventory = try fleet.inventory(count: 1)
        let readable = try fleet.directory.write("readable.token", "dashboard-token-0123456789abcdef\n", mode: 0o644)
        let short = try fleet.directory.write("short.token", "short\n")
        let tls = ["--tls-cert", pki.serverCertificate, "--tls-key", pki.serverKey]
        let cases: [(arguments: [String], expected: String)] = [
            (["--listen", "0.0.0.0:7720"], "beyond loopback: give --tls-cert and --tls-key"),
            (["--listen", "0.0.0.0:7720"] + tls, "give --token-file"),
            (["--tls-cert", pki.serverCertificate], "--tls-cert and --tls-key go together"),
            (["--client-ca", pki.caCertificate], "--client-ca needs TLS"),
            (["--token-file", readable], "only its owner may read (mode 0600 or 0400): 644 now"),
            (["--token-file", short], "at least 16 characters"),
            (["--token-file", fleet.directory.url("absent")], "openssl rand -hex 32"),
            (["--tls-cert", pki.serverKey, "--tls-key", pki.serverKey], "cannot set up TLS from --tls-cert"),
        ]
        for (arguments, expected) in cases {
            let result = try await fleet.coordinator(
                ["serve", "--fleet", inventory, "--listen", "127.0.0.1:1"] + arguments)
            #expect(result.status == 2 && result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }
}
