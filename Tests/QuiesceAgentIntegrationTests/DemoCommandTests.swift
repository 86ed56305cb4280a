import Foundation
import QuiesceDemo
import QuiesceTestSupport
import Testing

/// `quiesce demo`, the README's main job: the uploads application over two VMs, restored intact
/// from a group snapshot and broken by two snapshots taken one after the other (freezing for
/// real as root, saying why not otherwise); it leaves nothing behind, also when interrupted.
@Suite(
    "quiesce demo", .serialized,
    .enabled(if: PostgreSQLCluster.isInstalled || Privilege.isCI, "needs Debian's postgresql-15 (scripts/setup.sh)"))
struct DemoCommandTests {
    /// Demo directories, mounts under them, and demo agents still running.
    private func leftovers(before: Set<String>) throws -> [String] {
        let directories = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter {
            $0.hasPrefix("quiesce-demo.") && !before.contains($0)
        }
        let mounts = try String(contentsOfFile: "/proc/self/mounts", encoding: .utf8).split(separator: "\n").filter {
            $0.contains("/tmp/quiesce-demo.")
        }
        return directories + mounts.map(String.init)
    }

    private func demoDirectories() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("quiesce-demo.") })
    }

    @Test func theDemoTellsTheWholeStoryAndProvesTheCut() async throws {
        let before = try demoDirectories()
        let timeline = NSTemporaryDirectory() + "quiesce-demo-test-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: timeline) }
        let result = try await AgentBinary.run(
            ["demo", "--json", "--timeline", timeline, "--recipes", RecipeConfigTests.recipes.path], program: "quiesce")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try result.json()
        #expect(report["succeeded"] as? Bool == true)
        #expect(report["freezes"] as? Bool == Privilege.isRoot)
        let snapshot = try #require(report["snapshot"] as? [String: Any])
        #expect(snapshot["status"] as? String == "succeeded")
        let restored = try #require(snapshot["verification"] as? [String: Any])
        #expect(restored["result"] as? String == "passed", "\(restored)")
        #expect((restored["outputTail"] as? String)?.contains("every row's file is there with its SHA-256") == true)
        let contrast = try #require(report["oneAfterTheOther"] as? [String: Any])
        #expect(contrast["result"] as? String == "failed", "\(contrast)")
        #expect((contrast["reason"] as? String)?.contains("rows point at missing files") == true, "\(contrast)")
        #expect(FileManager.default.fileExists(atPath: timeline))
        #expect(try leftovers(before: before).isEmpty)

        let story = try await AgentBinary.run(
            ["demo", "--timeline", timeline, "--recipes", RecipeConfigTests.recipes.path], program: "quiesce")
        #expect(story.status == 0)
        #expect(story.stdout.contains("verification: passed"))
        #expect(story.stdout.contains("As expected: rows committed between the two snapshots"))
        #expect(story.stdout.contains(Privilege.isRoot ? "really freeze" : "freezing is skipped"))
    }

    @Test func anInterruptedDemoStillCleansUp() async throws {
        let before = try demoDirectories()
        let timeline = NSTemporaryDirectory() + "quiesce-demo-interrupted-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: timeline) }
        let demo = try AgentBinary.start(
            ["demo", "--timeline", timeline, "--recipes", RecipeConfigTests.recipes.path], program: "quiesce")
        // Interrupt once the demo has set its VMs up (its first line names their directory).
        _ = await eventually(within: 20) { (try? demoDirectories().subtracting(before).isEmpty) == false }
        try await Task.sleep(for: .milliseconds(400))
        kill(demo.process.processIdentifier, SIGINT)
        try await onBlockingThread { demo.process.waitUntilExit() }
        #expect([0, 130].contains(demo.process.terminationStatus), "interrupted (130) or already done (0)")
        #expect(try leftovers(before: before).isEmpty)
        #expect(
            (try? Shell.run(["pgrep", "-f", "quiesce-demo\\..*/agent.json"])) == nil, "no demo agent is left running")
        #expect(
            (try? Shell.run(["pgrep", "-f", "quiesce-demo\\..*/pgdata"])) == nil, "no demo database is left running")
    }
}
