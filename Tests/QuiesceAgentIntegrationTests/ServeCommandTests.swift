import Foundation
import QuiesceTestSupport
import Testing

/// `quiesce-agent serve` as a process: refusals at start-up, TLS and mutual TLS, shutdown.
@Suite("quiesce-agent serve")
struct ServeCommandTests {
    @Test func plaintextOnANonLoopbackAddressIsRefusedWithTheReason() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let result = try await AgentBinary.run([
            "serve", "--settings", try ServeFixture.settings(directory, listen: "0.0.0.0:7711"),
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("refusing to serve plaintext HTTP on 0.0.0.0:7711"))
        #expect(result.stderr.contains("--insecure-plaintext"))
    }

    @Test func aTokenFileOthersCanReadIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try ServeFixture.settings(directory, listen: "127.0.0.1:0")
        try directory.chmod("agent.token", 0o644)
        let result = try await AgentBinary.run(["serve", "--settings", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the token file is not private"))
        #expect(result.stderr.contains("chmod 0600"))
    }

    @Test func sigtermStopsTheServerGracefullyWithStatusZero() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, _) = try await ServeFixture.start(directory)
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(server.process.terminationReason == .exit)
    }

    @Test func anIdleKeepAliveClientDoesNotKeepAStoppedAgentAlive() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (server, client) = try await ServeFixture.start(directory)
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        let idle = try client.hold()
        defer { idle.close() }
        kill(server.process.processIdentifier, SIGTERM)
        // The request timeout (30 s) would close it too; shutdown must not wait for that.
        #expect(try await idle.waitForClose(within: 15), "the agent kept an idle connection open while stopping")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func sigtermDuringAFrozenSessionThawsRunsThePostScriptAndExitsZero() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.url("ran.log")
        try ServeFixture.installScripts(
            directory, pre: "echo pre >> \(log)", post: "echo \"post $QUIESCE_SNAPSHOT_RESULT\" >> \(log)")
        let (server, client) = try await ServeFixture.start(
            directory, extra: #", "freeze": {"mounts": ["\#(disk.mountPoint)"], "timeoutSeconds": 120}"#)
        let frozen = try #require(try await ServeFixture.session("s", client, through: ["prepare", "freeze"]))
        #expect(try frozen.json()["frozen"] as? Bool == true, "\(frozen.text)")
        #expect(try !disk.acceptsWrites(within: 0.2))
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(try disk.acceptsWrites(within: 5), "thawed on the way out")
        #expect(try directory.read("ran.log") == "pre\npost skipped\n", "the post-script released the application")
    }

    @Test func sigtermDuringAPhaseLetsItFinishOnceThenRunsOnePostScript() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.url("ran.log")
        let started = directory.url("pre-started")
        try ServeFixture.installScripts(
            directory, pre: "echo pre-start >> \(log)\ntouch \(started)\nsleep 2\necho pre-end >> \(log)",
            post: "echo \"post $QUIESCE_PRE_RESULT\" >> \(log)", freeze: false)
        let (server, client) = try await ServeFixture.start(directory)
        defer { if server.process.isRunning { kill(server.process.processIdentifier, SIGKILL) } }
        _ = try await ServeFixture.session("s", client, through: [])
        let prepare = Task { try await client.send("POST", "/v1/sessions/s/prepare", token: ServeFixture.token) }
        #expect(await eventually(within: 10) { FileManager.default.fileExists(atPath: started) })
        kill(server.process.processIdentifier, SIGTERM)
        let answer = try await prepare.value
        #expect(answer.status == 200, "the running phase is answered: \(answer.text)")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(
            try directory.read("ran.log") == "pre-start\npre-end\npost succeeded\n",
            "one pre-script, never a second beside it, then exactly one post-script")
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func atStartServeThawsWhatACrashedAgentAndGuardLeftFrozen() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // As a guard notes a freeze before taking it; then both were SIGKILLed together.
        try directory.write("state/freeze-crashed.json", #"{"mounts": ["\#(disk.mountPoint)"], "createdAt": 0}"#)
        _ = try Shell.run(["fsfreeze", "-f", disk.mountPoint])
        defer { _ = try? Shell.run(["fsfreeze", "-u", disk.mountPoint]) }
        #expect(try !disk.acceptsWrites(within: 0.2), "frozen before the agent starts")
        let (server, _) = try await ServeFixture.start(directory, capturingStandardError: true)
        #expect(try disk.acceptsWrites(within: 5), "the restarted agent thawed it")
        #expect(!FileManager.default.fileExists(atPath: directory.url("state/freeze-crashed.json")), "record done")
        kill(server.process.processIdentifier, SIGTERM)
        server.process.waitUntilExit()
        let errors = String(decoding: server.errors!.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(errors.contains("\(disk.mountPoint) was left frozen by an earlier agent: thawed"), "\(errors)")
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func aGuardKilledMidFreezeIsNoticedAndTheMountsThawedAtOnce() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try ServeFixture.installScripts(directory, pre: "exit 0", post: "exit 0")
        let (server, client) = try await ServeFixture.start(
            directory, extra: #", "freeze": {"mounts": ["\#(disk.mountPoint)"], "timeoutSeconds": 120}"#)
        defer {
            kill(server.process.processIdentifier, SIGTERM)
            server.process.waitUntilExit()
        }
        let frozen = try #require(try await ServeFixture.session("g", client, through: ["prepare", "freeze"]))
        #expect(try frozen.json()["frozen"] as? Bool == true, "\(frozen.text)")
        let guardPid = try #require(
            Int32(
                try Shell.run(["pgrep", "-f", "freeze-guard .*\(disk.mountPoint)"]).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        kill(guardPid, SIGKILL)
        // No request comes: the lease is 600 s and the guard's deadline 120 s away.
        #expect(try disk.acceptsWrites(within: 10), "the agent saw its guard die and thawed")
        let finished = try await client.send("POST", "/v1/sessions/g/finish", token: ServeFixture.token)
        let errors = (try finished.json()["report"] as? [String: Any])?["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { ($0["message"] as? String)?.contains("died") == true }, "\(finished.text)")
    }

    @Test func tlsAndMutualTLSAcceptOnlyClientsWithACertificateFromTheCA() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(in: directory)
        let port = try FreePorts.one()
        let path = try ServeFixture.settings(
            directory, listen: "127.0.0.1:\(port)",
            extra:
                #", "tls": {"certificateFile": "\#(pki.serverCertificate)", "keyFile": "\#(pki.serverKey)", "#
                + #""clientCAFile": "\#(pki.caCertificate)"}"#
        )
        let server = try AgentBinary.start(["serve", "--settings", path])
        defer {
            kill(server.process.processIdentifier, SIGTERM)
            server.process.waitUntilExit()
        }
        let url = "https://127.0.0.1:\(port)/v1/version"
        let token = "Authorization: Bearer \(ServeFixture.token)"
        let withCertificate = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pki.caCertificate, "--cert",
            pki.clientCertificate, "--key", pki.clientKey, "-H", token, url,
        ]
        #expect(await eventually(within: 10) { (try? Shell.run(withCertificate)) == "200" })
        // No client certificate: the handshake fails, nothing reaches a handler.
        let without = try Shell.status([
            "curl", "-s", "-o", "/dev/null", "--cacert", pki.caCertificate, "-H", token, url,
        ])
        #expect(without.status != 0)
        // A certificate from another CA is refused the same way.
        let rogue = try TestPKI(in: directory, name: "rogue")
        let foreign = try Shell.status([
            "curl", "-s", "-o", "/dev/null", "--cacert", pki.caCertificate, "--cert", rogue.clientCertificate, "--key",
            rogue.clientKey, "-H", token, url,
        ])
        #expect(foreign.status != 0)
        // Plain HTTP to the TLS port gets nowhere.
        let plain = try Shell.status([
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/v1/health",
        ])
        #expect(plain.output != "200")
    }
}
