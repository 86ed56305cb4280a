import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce ca`: a CA made, certificates issued from the inventory, mutual TLS between a real
/// agent and the coordinator with nothing else, and every misuse refused without a change.
@Suite("quiesce ca")
struct CACommandTests {
    private func quiesce(_ arguments: [String]) async throws -> AgentBinary.Result {
        try await AgentBinary.run(arguments, program: "quiesce")
    }

    /// An inventory of one agent on `port`, reached through `tls`.
    private func inventory(_ directory: TemporaryDirectory, _ name: String, port: Int, ca: String) throws -> String {
        try directory.write(
            name,
            #"{"defaults": {"tokenFile": "agent.token", "tls": {"caFile": "\#(ca)/ca.pem", "#
                + #""certificateFile": "\#(ca)/coordinator.pem", "keyFile": "\#(ca)/coordinator.key"}}, "#
                + #""groups": {"all": {}}, "#
                + #""vms": [{"name": "a0", "address": "127.0.0.1:\#(port)", "groups": ["all"]}]}"#)
    }

    @Test func certificatesFromTheCAGiveMutualTLSAndAStrangersAreRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        let port = try FreePorts.one()
        let fleet = try inventory(directory, "fleet.json", port: port, ca: ca)
        #expect(try await quiesce(["ca", "init", "--dir", ca, "--name", "test fleet"]).status == 0)
        let issued = try await quiesce(["ca", "issue", "--dir", ca, "--coordinator", "--vm", "a0", "--fleet", fleet])
        #expect(issued.status == 0, "\(issued.stdout)\(issued.stderr)")
        #expect(issued.stdout.contains("a0: \(ca)/agents/a0.pem for 127.0.0.1"), "\(issued.stdout)")

        let agent = try ServeFixture.startWithCertificate(of: "a0", from: ca, in: directory, port: port)
        defer {
            kill(agent.process.processIdentifier, SIGTERM)
            agent.process.waitUntilExit()
        }
        #expect(
            try await eventually(within: 10) {
                let sweep = try await quiesce(["sweep", "--fleet", fleet, "--json"])
                let vms = try sweep.json()["vms"] as? [[String: Any]] ?? []
                return vms.first?["reachable"] as? Bool == true
            }, "the coordinator reaches the agent over mutual TLS with the CA's certificates")

        // A coordinator certificate from another CA is refused by the agent.
        let other = directory.url("other")
        #expect(try await quiesce(["ca", "init", "--dir", other]).status == 0)
        #expect(try await quiesce(["ca", "issue", "--dir", other, "--coordinator"]).status == 0)
        let stranger = try directory.write(
            "stranger.json",
            #"{"defaults": {"tokenFile": "agent.token", "tls": {"caFile": "\#(ca)/ca.pem", "#
                + #""certificateFile": "\#(other)/coordinator.pem", "keyFile": "\#(other)/coordinator.key"}}, "#
                + #""vms": [{"name": "a0", "address": "127.0.0.1:\#(port)"}]}"#)
        let refused = try await quiesce(["sweep", "--fleet", stranger, "--json"])
        #expect(refused.status == 1)
        let vm = try #require((try refused.json()["vms"] as? [[String: Any]])?.first)
        #expect(vm["reachable"] as? Bool == false)
        #expect(
            (vm["problems"] as? [String])?.first?.contains(
                "the agent does not trust the coordinator's certificate: its tls.clientCAFile") == true, "\(vm)")

        // Nor does the coordinator trust an agent another CA vouches for.
        let distrusting = try directory.write(
            "distrusting.json",
            #"{"defaults": {"tokenFile": "agent.token", "tls": {"caFile": "\#(other)/ca.pem", "#
                + #""certificateFile": "\#(ca)/coordinator.pem", "keyFile": "\#(ca)/coordinator.key"}}, "#
                + #""vms": [{"name": "a0", "address": "127.0.0.1:\#(port)"}]}"#)
        let untrusted = try await quiesce(["sweep", "--fleet", distrusting, "--json"])
        let problems = (try untrusted.json()["vms"] as? [[String: Any]])?.first?["problems"] as? [String] ?? []
        #expect(
            problems.first?.contains("the coordinator does not trust the agent's certificate") == true, "\(problems)")
    }

    @Test func aSweepWarnsOfCertificatesWithin30DaysOfTheirEnd() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        let port = try FreePorts.one()
        let fleet = try inventory(directory, "fleet.json", port: port, ca: ca)
        // Issued for 397 days, cut to the CA's 20.
        #expect(try await quiesce(["ca", "init", "--dir", ca, "--days", "20"]).status == 0)
        #expect(
            try await quiesce(["ca", "issue", "--dir", ca, "--coordinator", "--vm", "a0", "--fleet", fleet]).status == 0
        )
        let agent = try ServeFixture.startWithCertificate(of: "a0", from: ca, in: directory, port: port)
        defer {
            kill(agent.process.processIdentifier, SIGTERM)
            agent.process.waitUntilExit()
        }
        var report: [String: Any] = [:]
        #expect(
            try await eventually(within: 10) {
                report = try await quiesce(["sweep", "--fleet", fleet, "--json"]).json()
                return (report["vms"] as? [[String: Any]])?.first?["reachable"] as? Bool == true
            })
        let vm = try #require((report["vms"] as? [[String: Any]])?.first)
        let warnings = vm["warnings"] as? [String] ?? []
        #expect(
            warnings.contains { $0.contains("its TLS certificate expires in 19 days") && $0.contains("--vm a0") },
            "\(vm)")
        let own = report["warnings"] as? [String] ?? []
        #expect(own.contains { $0.contains("\(ca)/coordinator.pem expires in 19 days") }, "\(report)")
        let text = try await quiesce(["sweep", "--fleet", fleet])
        #expect(text.stdout.contains("warning: the coordinator's certificate"), "\(text.stdout)")
    }

    @Test func aTLSKeyOthersCanReadIsUsedByNeitherSide() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        let port = try FreePorts.one()
        let fleet = try inventory(directory, "fleet.json", port: port, ca: ca)
        #expect(try await quiesce(["ca", "init", "--dir", ca]).status == 0)
        #expect(
            try await quiesce(["ca", "issue", "--dir", ca, "--coordinator", "--vm", "a0", "--fleet", fleet]).status == 0
        )

        chmod("\(ca)/agents/a0.key", 0o644)
        let settings = try ServeFixture.settings(
            directory, listen: "127.0.0.1:\(port)",
            extra: #", "tls": {"certificateFile": "\#(ca)/agents/a0.pem", "keyFile": "\#(ca)/agents/a0.key"}"#)
        let agent = try await AgentBinary.run(["serve", "--settings", settings])
        #expect(agent.status == 2)
        #expect(agent.stderr.contains("tls.keyFile \(ca)/agents/a0.key is not private"), "\(agent.stderr)")

        chmod("\(ca)/coordinator.key", 0o640)
        let sweep = try await quiesce(["sweep", "--fleet", fleet, "--json"])
        let problems = (try sweep.json()["vms"] as? [[String: Any]])?.first?["problems"] as? [String] ?? []
        #expect(
            problems.contains { $0.contains("the key file \(ca)/coordinator.key can be read by others") },
            "\(problems)")
    }

    @Test func anExistingCAIsNeverReplacedAndALooseKeyIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        #expect(try await quiesce(["ca", "init", "--dir", ca]).status == 0)
        let before = try directory.read("ca/ca.pem")
        let again = try await quiesce(["ca", "init", "--dir", ca])
        #expect(again.status == 2)
        #expect(again.stderr.contains("\(ca)/ca.pem exists"), "\(again.stderr)")
        #expect(try directory.read("ca/ca.pem") == before, "the CA is unchanged")

        chmod("\(ca)/ca.key", 0o644)
        let loose = try await quiesce(["ca", "issue", "--dir", ca, "--coordinator"])
        #expect(loose.status == 2)
        #expect(loose.stderr.contains("chmod 600 \(ca)/ca.key"), "\(loose.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(ca)/coordinator.pem"), "nothing was issued")
        chmod("\(ca)/ca.key", 0o600)

        let unknown = try await quiesce(["ca", "issue", "--dir", ca, "--vm", "nobody", "--fleet", "/nonexistent.json"])
        #expect(unknown.status == 2)
        let nothing = try await quiesce(["ca", "issue", "--dir", ca])
        #expect(nothing.status != 0 && nothing.stderr.contains("--coordinator"), "\(nothing.stderr)")
    }

    @Test func showListsEveryCertificateWithItsRoleNamesAndExpiry() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ca = directory.url("ca")
        let fleet = try inventory(directory, "fleet.json", port: 7710, ca: ca)
        #expect(try await quiesce(["ca", "init", "--dir", ca, "--days", "40"]).status == 0)
        #expect(
            try await quiesce(["ca", "issue", "--dir", ca, "--coordinator", "--group", "all", "--fleet", fleet]).status
                == 0)
        let show = try await quiesce(["ca", "show", "--dir", ca, "--json"])
        let certificates = try #require(try show.json()["certificates"] as? [[String: Any]])
        #expect(certificates.compactMap { $0["role"] as? String } == ["ca", "client", "server"])
        #expect(certificates.last?["names"] as? [String] == ["127.0.0.1"])
        #expect(certificates.last?["subject"] as? String == "CN=a0,O=Quiesce")
        let text = try await quiesce(["ca", "show", "--dir", ca])
        // Issued for 397 days, but never past the CA's own 40.
        #expect(text.stdout.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix(" 39") }, "\(text.stdout)")
    }
}
