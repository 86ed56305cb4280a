import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce enroll`: an agent with only a join token gets a certificate for its own key and
/// serves mutual TLS; a replayed request, a second use of the token and an impostor change nothing.
@Suite("quiesce enroll")
struct EnrollCommandTests {
    private func quiesce(_ arguments: [String]) async throws -> AgentBinary.Result {
        try await AgentBinary.run(arguments, program: "quiesce")
    }

    /// A CA with the coordinator's certificate, an inventory of one VM on `port` reached with it
    /// (no token file), and the agent's settings with its enrollment files under `agent/`.
    private struct Setup {
        let directory: TemporaryDirectory
        let port: Int
        var ca: String { directory.url("ca") }
        var state: String { directory.url("state") }
        var fleet: String { directory.url("fleet.json") }
        var joinToken: String { directory.url("agent/join-token") }
        var tls: String { directory.url("agent/tls") }
        var location: [String] { ["--dir", ca, "--state", state] }

        init(_ test: EnrollCommandTests) async throws {
            directory = try TemporaryDirectory()
            port = try FreePorts.one()
            #expect(try await test.quiesce(["ca", "init", "--dir", directory.url("ca")]).status == 0)
            #expect(try await test.quiesce(["ca", "issue", "--dir", directory.url("ca"), "--coordinator"]).status == 0)
            let ca = directory.url("ca")
            try directory.write(
                "fleet.json",
                #"{"defaults": {"tls": {"caFile": "\#(ca)/ca.pem", "certificateFile": "\#(ca)/coordinator.pem", "#
                    + #""keyFile": "\#(ca)/coordinator.key"}}, "#
                    + #""vms": [{"name": "a0", "address": "127.0.0.1:\#(port)"}]}"#
            )
            try directory.write(
                "agent.json",
                #"{"listen": "127.0.0.1:\#(port)", "requiredOwnerUid": \#(geteuid()), "#
                    + #""auth": {"tokenFile": "\#(directory.url("agent/none.token"))"}, "#
                    + #""enrollment": {"joinTokenFile": "\#(directory.url("agent/join-token"))", "#
                    + #""directory": "\#(directory.url("agent/tls"))"}, "#
                    + #""pluginConfigPath": "\#(directory.url("config.json"))", "#
                    + #""stateDirectory": "\#(directory.url("run"))", "scriptRoot": "\#(directory.url("scripts"))", "#
                    + #""auditLogPath": "\#(directory.url("audit.log"))"}"#)
        }

        /// `quiesce enroll token` for a0: the token it printed.
        func makeToken(_ test: EnrollCommandTests) async throws -> String {
            let made = try await test.quiesce(["enroll", "token", "--fleet", fleet, "--vm", "a0"] + location)
            #expect(made.status == 0, "\(made.stderr)")
            return try #require(made.stdout.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func startAgent() async throws -> AgentBinary.Started {
            let agent = try AgentBinary.start(
                ["serve", "--settings", directory.url("agent.json")], capturingStandardError: true)
            let client = RawHTTPClient(port: port)
            #expect(await eventually(within: 10) { (try? await client.send("GET", "/v1/health"))?.status == 200 })
            return agent
        }

        func stop(_ agent: AgentBinary.Started) -> String {
            kill(agent.process.processIdentifier, SIGTERM)
            agent.process.waitUntilExit()
            return String(decoding: agent.errors?.fileHandleForReading.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        }

        func sweepReaches(_ test: EnrollCommandTests) async throws -> Bool {
            try await eventually(within: 10) {
                let sweep = try await test.quiesce(["sweep", "--fleet", fleet, "--json", "--state", state])
                return (try sweep.json()["vms"] as? [[String: Any]])?.first?["reachable"] as? Bool == true
            }
        }
    }

    private func post(_ client: RawHTTPClient, _ path: String, _ body: some Encodable) async throws
        -> RawHTTPClient.Response
    {
        try await client.send("POST", path, body: try QuiesceJSON.encode(body))
    }

    @Test func anAgentWithOnlyAJoinTokenIsEnrolledForItsOwnKeyAndAReplayChangesNothing() async throws {
        let setup = try await Setup(self)
        defer { setup.directory.remove() }
        let tokenText = try await setup.makeToken(self)
        let token = try Enrollment.JoinToken(tokenText)
        try setup.directory.write("agent/join-token", tokenText + "\n", mode: 0o600)
        var agent = try await setup.startAgent()
        defer { _ = setup.stop(agent) }
        let key = try String(contentsOfFile: setup.tls + "/agent.key", encoding: .utf8)
        #expect(
            try FileManager.default.attributesOfItem(atPath: setup.tls + "/agent.key")[.posixPermissions] as? Int
                == 0o600)

        // Waiting for enrollment, the agent serves nothing else.
        let client = RawHTTPClient(port: setup.port)
        #expect(try await client.send("GET", "/v1/compliance", token: "anything").status == 401)

        // A request recorded from an earlier exchange (here: made for an earlier hello) is refused
        // once another hello has been answered, and so is a request proven with the wrong token.
        let first = try await post(client, Enrollment.helloRoute, Enrollment.Hello(coordinatorNonce: "c1"))
        let firstHello = try QuiesceJSON.decode(Enrollment.HelloAnswer.self, from: first.body)
        #expect(
            Enrollment.isValid(
                firstHello.proof,
                expected: Enrollment.agentProof(
                    token, coordinatorNonce: "c1", agentNonce: firstHello.agentNonce, publicKey: firstHello.publicKey)))
        let recorded = Enrollment.Request(
            certificate: "-", caCertificate: "-",
            proof: Enrollment.coordinatorProof(
                token, agentNonce: firstHello.agentNonce, certificate: "-", caCertificate: "-"))
        _ = try await post(client, Enrollment.helloRoute, Enrollment.Hello(coordinatorNonce: "c2"))
        let replayed = try await post(client, Enrollment.route, recorded)
        #expect(replayed.status == 403 && replayed.text.contains("EnrollmentRefused"), "\(replayed.text)")
        let wrong = try await post(client, Enrollment.route, recorded)
        #expect(wrong.status == 403 && wrong.text.contains("no enrollment hello is outstanding"), "\(wrong.text)")

        let enrolled = try await quiesce(["enroll", "--fleet", setup.fleet, "--json"] + setup.location)
        #expect(enrolled.status == 0, "\(enrolled.stdout)\(enrolled.stderr)")
        let outcome = try #require((try enrolled.json()["vms"] as? [[String: Any]])?.first)
        #expect(outcome["status"] as? String == "enrolled", "\(outcome)")
        #expect(!FileManager.default.fileExists(atPath: setup.joinToken), "the agent deleted its join token")
        #expect(try String(contentsOfFile: setup.tls + "/agent.key", encoding: .utf8) == key, "its own key, kept")
        #expect(FileManager.default.fileExists(atPath: setup.ca + "/agents/a0.pem"))
        #expect(!FileManager.default.fileExists(atPath: setup.ca + "/agents/a0.key"), "no key for it on our side")
        #expect(try await setup.sweepReaches(self), "mutual TLS with the CA pinned, no token")

        // The coordinator cannot use the token twice.
        let again = try await quiesce(["enroll", "--fleet", setup.fleet] + setup.location)
        #expect(again.status == 1 && again.stdout.contains("no join token waits for a0"), "\(again.stdout)")

        // The same token written again (cloud-init at the next boot): the agent stays enrolled.
        let log = setup.stop(agent)
        #expect(log.contains("enrolled; the join token is deleted"), "\(log)")
        try setup.directory.write("agent/join-token", tokenText + "\n", mode: 0o600)
        agent = try AgentBinary.start(
            ["serve", "--settings", setup.directory.url("agent.json")], capturingStandardError: true)
        #expect(try await setup.sweepReaches(self))
        #expect(!FileManager.default.fileExists(atPath: setup.joinToken))
        #expect(
            (try? await post(client, Enrollment.helloRoute, Enrollment.Hello(coordinatorNonce: "c3")))?.status
                != 200, "no plaintext enrollment once enrolled")
    }

    @Test func anAgentHoldingAnotherTokenIsNotIssuedACertificate() async throws {
        let setup = try await Setup(self)
        defer { setup.directory.remove() }
        _ = try await setup.makeToken(self)
        // The agent at a0's address holds a token made for somebody else: an impostor, to the coordinator.
        let other = Enrollment.JoinToken(caFingerprint: String(repeating: "0", count: 64))
        try setup.directory.write("agent/join-token", other.description + "\n", mode: 0o600)
        let agent = try await setup.startAgent()
        defer { _ = setup.stop(agent) }
        let refused = try await quiesce(["enroll", "--fleet", setup.fleet] + setup.location)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("did not prove it holds a0's join token"), "\(refused.stdout)")
        #expect(!FileManager.default.fileExists(atPath: setup.ca + "/agents/a0.pem"), "nothing issued")
        #expect(FileManager.default.fileExists(atPath: setup.joinToken), "the agent still waits")
    }
}
