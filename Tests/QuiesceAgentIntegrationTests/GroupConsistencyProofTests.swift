import Foundation
import QuiesceAPI
import QuiesceDemo
import QuiesceTestSupport
import Testing

/// The proof that a group snapshot is one consistent cut, on three real agents with real
/// loop-mounted ext4 disks, really frozen: a writer appends k to VM1, then VM2, then VM3 (fsync
/// after each) without pause. In the group snapshot's copies every k on a later VM is on every
/// earlier one; in copies taken one VM after another it is not: the barrier makes the difference.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)), .serialized)
struct GroupConsistencyProofTests {
    /// Pushes to each VM a config whose scripts get the VM's name, and for `failing` a pre-script
    /// that refuses to quiesce. Post-scripts log to `post.log` in the fleet's directory.
    private func push(_ fleet: DemoFleet, failing: String? = nil) async throws {
        let root = fleet.scriptRoot
        let directory = fleet.directory
        let pre = try write(
            "\(directory)/push/pre.sh",
            "#!/bin/sh\n[ \"$1\" = fail ] && { echo \"cannot quiesce $2: replica lag too high\" >&2; exit 1; }\necho "
                + "\"quiesced $2\"\n"
        )
        let post = try write(
            "\(directory)/push/post.sh", "#!/bin/sh\necho \"$1 $QUIESCE_PRE_RESULT\" >> \(directory)/post.log\n")
        for agent in fleet.agents {
            let mode = agent.name == failing ? "fail" : "ok"
            let config = try write(
                "\(directory)/push/\(agent.name).json",
                #"{"preScriptLocation": "\#(root)/pre.sh", "postScriptLocation": "\#(root)/post.sh", "#
                    + #""preScriptParams": ["\#(mode)", "\#(agent.name)"], "postScriptParams": ["\#(agent.name)"], "#
                    + #""timeoutInSeconds": 20}"#
            )
            let result = try await run(
                [
                    "push", "--fleet", fleet.inventoryPath, "--vm", agent.name, "--plugin-config", config, "--pre", pre,
                    "--post", post,
                ], fleet)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
    }

    private func write(_ path: String, _ text: String) throws -> String {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, path.hasSuffix(".json") ? 0o600 : 0o700)
        return path
    }

    private func run(_ arguments: [String], _ fleet: DemoFleet) async throws -> AgentBinary.Result {
        try await AgentBinary.run(arguments + ["--state", "\(fleet.directory)/state"], program: "quiesce")
    }

    private func snapshot(_ fleet: DemoFleet, vm: String? = nil) async throws -> (AgentBinary.Result, [String: Any]) {
        let result = try await run(
            ["snapshot", "--fleet", fleet.inventoryPath, "--group", "demo", "--json"]
                + (vm.map { ["--vm", $0] } ?? []), fleet)
        return (result, (try? result.json()) ?? [:])
    }

    @Test func theGroupBarrierMakesTheCutConsistentAndSnapshotsOneAfterAnotherDoNot() async throws {
        let fleet = try DemoFleet(count: 3, agentPath: AgentBinary.path, prefix: "quiesce-proof")
        defer { fleet.stop() }
        #expect(fleet.freezes)
        try await fleet.waitUntilReady()
        try await push(fleet)
        let writer = try SequenceWriter(disks: fleet.disks)
        defer { writer.stop() }
        try await Task.sleep(for: .milliseconds(300))

        // One group snapshot: every copy is taken while all three are frozen.
        let (group, report) = try await snapshot(fleet)
        #expect(group.status == 0, "\(group.stdout)\(group.stderr)")
        #expect((report["cut"] as? [String: Any])?["shown"] as? Bool == true)
        let sessionId = try #require(report["sessionId"] as? String)
        let groupCut = CutCheck.check(try fleet.openCopies(of: sessionId))
        #expect(groupCut.consistent, "\(groupCut)")
        #expect(groupCut.highest.allSatisfy { $0 > 0 }, "the writer was writing: \(groupCut)")

        // The same disks snapshotted one VM after another, without the barrier.
        var sessions: [String] = []
        for agent in fleet.agents {
            let (single, singleReport) = try await snapshot(fleet, vm: agent.name)
            #expect(single.status == 0, "\(single.stdout)\(single.stderr)")
            sessions.append(singleReport["sessionId"] as? String ?? "")
            try await Task.sleep(for: .milliseconds(200))
        }
        let sequentialCut = CutCheck.check(try fleet.openCopies(of: sessions))
        #expect(!sequentialCut.consistent, "one VM after another should tear the cut: \(sequentialCut)")
    }

    @Test func requireAllWithAFailingPreScriptFreezesNobodyAndReleasesTheOthers() async throws {
        let fleet = try DemoFleet(count: 3, agentPath: AgentBinary.path, prefix: "quiesce-proof")
        defer { fleet.stop() }
        try await fleet.waitUntilReady()
        try await push(fleet, failing: "vm-2")

        let (result, report) = try await snapshot(fleet)
        #expect(result.status == 1)
        #expect(report["status"] as? String == "failed")
        #expect((report["failure"] as? String)?.contains("vm-2") == true, "\(report["failure"] ?? "")")
        let phases = (report["phases"] as? [[String: Any]] ?? []).compactMap { $0["phase"] as? String }
        #expect(phases == ["preflight", "prepare", "finish"], "nothing was frozen")
        for member in report["members"] as? [[String: Any]] ?? [] {
            #expect(member["frozenAt"] == nil, "\(member["name"] ?? "")")
        }
        let vm2 = (report["members"] as? [[String: Any]])?.first { $0["name"] as? String == "vm-2" }
        #expect(
            ((vm2?["preScript"] as? [String: Any])?["stderrTail"] as? String)?.contains("replica lag too high") == true)
        let posts = try String(contentsOfFile: "\(fleet.directory)/post.log", encoding: .utf8)
        #expect(posts.contains("vm-1 succeeded") && posts.contains("vm-3 succeeded"), "\(posts)")

        // At 03:00 the history has the failed run, and `show` gives the failing script's own words.
        let history = try await run(["history", "--kind", "snapshot", "--json"], fleet)
        let run = try #require((try history.json()["runs"] as? [[String: Any]])?.first)
        #expect(run["status"] as? String == "failed")
        let shown = try await self.run(["show", "\(run["id"] as? Int ?? 0)"], fleet)
        #expect(shown.stdout.contains("replica lag too high") && shown.stdout.contains("vm-2"), "\(shown.stdout)")
    }
}
