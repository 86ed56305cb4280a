import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce sign` and a push to a real agent that trusts only the signing key: signed files go
/// in, unsigned or stale ones are refused and change nothing.
@Suite("quiesce sign")
struct SignCommandTests {
    private func quiesce(_ arguments: [String]) async throws -> AgentBinary.Result {
        try await AgentBinary.run(arguments, program: "quiesce")
    }

    @Test func signedFilesArePushedToAnAgentThatTrustsTheKeyAndNothingElseIs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let key = directory.url("signing.key")
        let made = try await quiesce(["sign", "--new-key", key])
        #expect(made.status == 0, "\(made.stderr)")
        let publicKey = try #require(made.stdout.split(separator: "\"").first { $0.hasPrefix("ed25519:") })
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
        let again = try await quiesce(["sign", "--new-key", key])
        #expect(again.status == 2 && again.stderr.contains("never replaced"), "\(again.stderr)")

        let (agent, _) = try await ServeFixture.start(
            directory, extra: #", "trust": {"signingKeys": ["\#(publicKey)"]}"#)
        defer {
            kill(agent.process.processIdentifier, SIGTERM)
            agent.process.waitUntilExit()
        }
        let port = try #require(
            try String(contentsOfFile: directory.url("agent.json"), encoding: .utf8).firstMatch(
                of: /127\.0\.0\.1:(\d+)/)
        ).1
        let fleet = try directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "agent.token"}, "vms": [{"name": "a0", "address": "127.0.0.1:\#(port)"}]}"#)
        let scripts = directory.url("scripts")
        let config = try directory.write(
            "push/config.json",
            #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#)
        let pre = try directory.write("push/pre.sh", "#!/bin/sh\necho quiescing\n", mode: 0o700)
        let files = ["--plugin-config", config, "--pre", pre]

        let unsigned = try await quiesce(
            ["push", "--fleet", fleet, "--json", "--state", directory.url("state")] + files)
        #expect(unsigned.status == 1)
        #expect(unsigned.stdout.contains("SignatureInvalid"), "\(unsigned.stdout)")
        #expect(!FileManager.default.fileExists(atPath: directory.url("config.json")), "nothing written unsigned")

        let signed = try await quiesce(["sign", "--key", key] + files)
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout.contains("by \(publicKey)"))
        let pushed = try await quiesce(["push", "--fleet", fleet, "--json", "--state", directory.url("state")] + files)
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(scripts)/pre.sh.sig"))
        let sweep = try await quiesce(["sweep", "--fleet", fleet, "--json", "--state", directory.url("state")])
        let vm = try #require((try sweep.json()["vms"] as? [[String: Any]])?.first)
        let problems = vm["problems"] as? [String] ?? []
        #expect(!problems.contains { $0.contains("SignatureInvalid") }, "\(problems)")

        // Edited after signing: push refuses it before any agent is asked.
        try directory.write("push/pre.sh", "#!/bin/sh\necho edited\n", mode: 0o700)
        let stale = try await quiesce(["push", "--fleet", fleet, "--state", directory.url("state")] + files)
        #expect(stale.status == 2)
        #expect(stale.stderr.contains("pre.sh.sig does not match"), "\(stale.stderr)")

        // A key others can read is not used.
        chmod(key, 0o644)
        let loose = try await quiesce(["sign", "--key", key] + files)
        #expect(loose.status == 2 && loose.stderr.contains("chmod 600"), "\(loose.stderr)")
    }
}
