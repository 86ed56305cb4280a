import Foundation
import QuiesceTestSupport
import Testing

/// `quiesce demo`, the README's main job: it succeeds (freezing for real as root, saying why
/// not otherwise) and leaves nothing behind, also when interrupted.
@Suite("quiesce demo", .serialized)
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
        let result = try await AgentBinary.run(["demo", "--json", "--timeline", timeline], program: "quiesce")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try result.json()
        #expect(report["succeeded"] as? Bool == true)
        #expect(report["freezes"] as? Bool == Privilege.isRoot)
        #expect((report["cut"] as? [String: Any])?["consistent"] as? Bool == true)
        #expect((report["snapshot"] as? [String: Any])?["status"] as? String == "succeeded")
        #expect(FileManager.default.fileExists(atPath: timeline))
        #expect(try leftovers(before: before).isEmpty)

        let story = try await AgentBinary.run(["demo", "--timeline", timeline], program: "quiesce")
        #expect(story.status == 0)
        #expect(story.stdout.contains("Consistent cut"))
        #expect(story.stdout.contains(Privilege.isRoot ? "really freeze" : "freezing is skipped"))
    }

    @Test func anInterruptedDemoStillCleansUp() async throws {
        let before = try demoDirectories()
        let demo = try AgentBinary.start(
            ["demo", "--timeline", NSTemporaryDirectory() + "quiesce-demo-interrupted.html"], program: "quiesce")
        // Interrupt once the demo has set its VMs up (its first line names their directory).
        _ = await eventually(within: 20) { (try? demoDirectories().subtracting(before).isEmpty) == false }
        try await Task.sleep(for: .milliseconds(400))
        kill(demo.process.processIdentifier, SIGINT)
        try await onBlockingThread { demo.process.waitUntilExit() }
        #expect([0, 130].contains(demo.process.terminationStatus), "interrupted (130) or already done (0)")
        #expect(try leftovers(before: before).isEmpty)
        #expect(
            (try? Shell.run(["pgrep", "-f", "quiesce-demo\\..*/agent.json"])) == nil, "no demo agent is left running")
    }
}
