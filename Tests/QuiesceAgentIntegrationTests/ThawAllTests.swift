import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// `thaw-all`, the escape hatch, when both the agent and its guard were killed mid-freeze.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct ThawAllTests {
    @Test func thawAllThawsCandidatesAndWhatAKilledGuardLeftFrozen() async throws {
        var disks: [LoopImage] = []
        for index in 0..<2 { disks.append(try await LoopImage.make(name: "disk\(index)")) }
        defer { disks.forEach { $0.remove() } }
        var fixture = try FrameworkFixture(mounts: [disks[1].mountPoint])
        defer { fixture.remove() }
        let pidFile = fixture.directory.url("snapshot.pid")
        try fixture.directory.write("snapshot.sh", "#!/bin/sh\necho $$ > \(pidFile)\nexec sleep 60\n", mode: 0o700)
        defer {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(pid, SIGKILL)
            }
        }
        fixture.settings.requiredOwnerUid = 0
        fixture.settings.freeze.timeoutSeconds = 120
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [fixture.directory.url("snapshot.sh")]
        let agent = try AgentBinary.start(["run-once", "--settings", try fixture.writeSettings()])
        #expect(await eventually(within: 20) { FileManager.default.fileExists(atPath: pidFile) })
        // The worst case: the guard is SIGKILLed too, so nothing thaws by itself. The agent is
        // stopped first: it watches its guard and would thaw the moment the guard died.
        let guards = ProcessState.children(of: agent.process.processIdentifier, commandContaining: "freeze-guard")
        #expect(guards.count == 1)
        kill(agent.process.processIdentifier, SIGSTOP)
        guards.forEach { kill($0, SIGKILL) }
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        #expect(try !disks[1].acceptsWrites(within: 0.3), "left frozen by the killed guard")
        #expect(try stateFiles(in: fixture.settings.stateDirectory).count == 1, "the guard's mounts are noted")

        // Another disk frozen by hand is a candidate of the settings thaw-all runs with.
        try Shell.run(["fsfreeze", "-f", disks[0].mountPoint])
        fixture.settings.freeze.mounts = [disks[0].mountPoint]
        let result = try await AgentBinary.run([
            "thaw-all", "--settings", try fixture.writeSettings("thaw.json"), "--json",
        ])
        #expect(result.status == 0, "\(result.stdout)")
        let mounts = try #require(try result.json()["mounts"] as? [[String: Any]])
        let byMount = Dictionary(uniqueKeysWithValues: mounts.map { ($0["mountPoint"] as? String ?? "", $0) })
        #expect(byMount[disks[0].mountPoint]?["result"] as? String == "thawed")
        #expect(byMount[disks[0].mountPoint]?["sources"] as? [String] == ["candidate"])
        #expect(byMount[disks[1].mountPoint]?["result"] as? String == "thawed")
        #expect(byMount[disks[1].mountPoint]?["sources"] as? [String] == ["guardRecord"])
        #expect(try disks[0].acceptsWrites(within: 2))
        #expect(try disks[1].acceptsWrites(within: 2))
        #expect(try stateFiles(in: fixture.settings.stateDirectory).isEmpty, "the record is cleared")

        // Run again: nothing is frozen, and saying so is a success.
        let again = try await AgentBinary.run(["thaw-all", "--settings", try fixture.writeSettings("thaw.json")])
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("Thawed 0 of 1 mounts"))
    }
}

private func stateFiles(in path: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: path)
}
