import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// The freeze must end whatever goes wrong. Each test freezes only loop-mounted images it made
/// and leaves none frozen or attached, even when it fails.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct FreezeGuardFaultTests {
    /// A fixture freezing `disks`, with a snapshot command whose body is given.
    private func fixture(disks: [LoopImage], snapshot body: String) throws -> FrameworkFixture {
        var fixture = try FrameworkFixture(mounts: disks.map(\.mountPoint))
        try fixture.directory.write("snapshot.sh", "#!/bin/sh\n\(body)\n", mode: 0o700)
        fixture.settings.requiredOwnerUid = 0
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [fixture.directory.url("snapshot.sh")]
        fixture.settings.snapshot.timeoutSeconds = 60
        return fixture
    }

    @Test func aSnapshotOutlastingTheDeadlineIsThawedByTheGuardAndCrashConsistent() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        // The snapshot step starts a writer on the frozen disk, then takes 3 s; the guard's
        // deadline is 1 s. The writer must get through while the snapshot step still runs.
        var fixture = try fixture(
            disks: [disk],
            snapshot: """
                sh -c 'echo late-write > \(disk.mountPoint)/blocked.txt' &
                sleep 3
                [ -s \(disk.mountPoint)/blocked.txt ] && echo writer-finished-during-snapshot
                """)
        defer { fixture.remove() }
        fixture.settings.freeze.timeoutSeconds = 1
        let result = try await AgentBinary.run(["run-once", "--settings", try fixture.writeSettings(), "--json"])
        let report = try result.json()
        #expect(result.status == 0, "\(result.stdout)")
        #expect(report["consistency"] as? String == "crashConsistent")
        let errors = report["errors"] as? [[String: Any]] ?? []
        #expect(errors.map { $0["code"] as? String } == ["FsFreezeTimeout"])
        #expect((errors.first?["message"] as? String)?.contains("deadline passed") == true)
        #expect((report["freeze"] as? [String: Any])?["heldThroughSnapshot"] as? Bool == false)
        #expect((report["snapshot"] as? [String: Any])?["id"] as? String == "writer-finished-during-snapshot")
    }

    @Test func aSigkilledAgentLeavesNothingFrozen() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        var fixture = try fixture(
            disks: [disk], snapshot: "echo $$ > \"$(dirname \"$0\")/snapshot.pid\"; exec sleep 60")
        defer { fixture.remove() }
        fixture.settings.freeze.timeoutSeconds = 120
        let pidFile = fixture.directory.url("snapshot.pid")
        defer {
            if let pid = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let value = Int32(pid.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                kill(value, SIGKILL)
            }
        }
        let agent = try AgentBinary.start(["run-once", "--settings", try fixture.writeSettings()])
        #expect(
            await eventually(within: 20) { FileManager.default.fileExists(atPath: pidFile) },
            "the snapshot step started")
        #expect(try !disk.acceptsWrites(within: 0.2), "the disk is frozen during the snapshot")
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        // The guard sees its pipe close and thaws at once, long before its 120 s deadline.
        #expect(try disk.acceptsWrites(within: 5), "writable again after the kill")
    }

    @Test func aGuardThatIsSigtermedThawsBeforeExiting() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let guardProcess = try AgentBinary.start(["freeze-guard", "--timeout-ms", "120000", "--", disk.mountPoint])
        defer { AgentBinary.stop(guardProcess) }
        let reader = LineReader(guardProcess.output.fileHandleForReading)
        let frozen = try #require(await reader.nextLine(within: 10))
        #expect(frozen.contains(#""event":"frozen""#))
        #expect(try !disk.acceptsWrites(within: 0.2))
        kill(guardProcess.process.processIdentifier, SIGTERM)
        let thawed = try #require(await reader.nextLine(within: 10))
        #expect(thawed.contains(#""reason":"signal""#) && thawed.contains(#""signal":15"#))
        #expect(thawed.contains(#""held":false"#))
        guardProcess.process.waitUntilExit()
        #expect(guardProcess.process.terminationStatus == 0)
        #expect(try disk.acceptsWrites(within: 5))
    }

    @Test func aFreezeFailureOnTheSecondOfThreeThawsTheFirstAndNamesTheForeignFreeze() async throws {
        var disks: [LoopImage] = []
        for index in 0..<3 { disks.append(try await LoopImage.make(name: "disk\(index)")) }
        defer { disks.forEach { $0.remove() } }
        try Shell.run(["fsfreeze", "-f", disks[1].mountPoint])
        var fixture = try fixture(disks: disks, snapshot: "true")
        defer { fixture.remove() }
        fixture.settings.freeze.timeoutSeconds = 30
        let result = try await AgentBinary.run(["run-once", "--settings", try fixture.writeSettings(), "--json"])
        let report = try result.json()
        #expect(report["consistency"] as? String == "crashConsistent")
        let error = try #require((report["errors"] as? [[String: Any]])?.first)
        #expect(error["code"] as? String == "FsFreezeFailed")
        let message = error["message"] as? String ?? ""
        #expect(
            message.contains("freezing \(disks[1].mountPoint) failed")
                && message.contains("already frozen by someone else"))
        #expect(message.contains("thawed again at once: \(disks[0].mountPoint)"))
        #expect(try disks[0].acceptsWrites(within: 2))
        #expect(try !disks[1].acceptsWrites(within: 0.2), "the foreign freeze is left alone")
        #expect(try disks[2].acceptsWrites(within: 2))
        try Shell.run(["fsfreeze", "-u", disks[1].mountPoint])
    }

    @Test func aWriterBlockedByTheFreezeResumesAfterTheThawAndItsDataIsOnDisk() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let guardProcess = try AgentBinary.start(["freeze-guard", "--timeout-ms", "60000", "--", disk.mountPoint])
        defer { AgentBinary.stop(guardProcess) }
        let reader = LineReader(guardProcess.output.fileHandleForReading)
        #expect(try #require(await reader.nextLine(within: 10)).contains(#""event":"frozen""#))
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = ["-c", "echo survived-the-freeze > \(disk.mountPoint)/data.txt && sync"]
        try writer.run()
        try await Task.sleep(for: .milliseconds(300))
        #expect(writer.isRunning, "the writer is blocked while frozen")
        guardProcess.input.fileHandleForWriting.write(Data("thaw\n".utf8))
        let thawed = try #require(await reader.nextLine(within: 10))
        #expect(thawed.contains(#""held":true"#) && thawed.contains(#""reason":"requested""#))
        #expect(await eventually(within: 5) { !writer.isRunning })
        #expect(writer.terminationStatus == 0)
        try disk.remount()
        #expect(try String(contentsOfFile: "\(disk.mountPoint)/data.txt", encoding: .utf8) == "survived-the-freeze\n")
    }
}
