import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// `run-once` end to end as root: a loop-mounted ext4 image really frozen, real scripts, and a
/// `command` snapshot that copies the image while it is frozen.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct RunOnceFreezeTests {
    @Test func aFrozenCopyMountsCleanlyAndHoldsWhatThePreScriptWrote() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        // The pre-script writes without syncing: the freeze must flush it into the copy. The
        // post-script writes too, which only works once the disk is thawed.
        var fixture = try FrameworkFixture(
            pre: "echo \"flushed-by-pre $QUIESCE_SESSION_ID\" > \(disk.mountPoint)/app.db",
            post: "echo released > \(disk.mountPoint)/post.txt",
            mounts: [disk.mountPoint])
        defer { fixture.remove() }
        let copy = fixture.directory.url("copy.img")
        try fixture.directory.write(
            "snapshot.sh", "#!/bin/sh\ncp --sparse=always \(disk.imagePath) \(copy) && echo copy-1\n", mode: 0o700)
        fixture.settings.requiredOwnerUid = 0
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [fixture.directory.url("snapshot.sh")]
        fixture.config["timeoutInSeconds"] = 10
        try fixture.writeConfig()
        let settings = try fixture.writeSettings()

        let gracePeriodsSwitch = "/sys/kernel/rcu_expedited"
        let switchBefore = try? String(contentsOfFile: gracePeriodsSwitch, encoding: .utf8)
        let result = try await AgentBinary.run(["run-once", "--settings", settings, "--json"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try result.json()
        #expect(report["consistency"] as? String == "applicationConsistent")
        let freeze = try #require(report["freeze"] as? [String: Any])
        #expect(freeze["mounts"] as? [String] == [disk.mountPoint])
        #expect(freeze["heldThroughSnapshot"] as? Bool == true)
        #expect((freeze["frozenMs"] as? Double ?? 0) > 0)
        // Flushed after the pre-script and again just before FIFREEZE; times to the microsecond.
        #expect(freeze["flushAfterPreScriptsMs"] is Double)
        #expect(freeze["flushBeforeFreezeMs"] is Double)
        #expect((freeze["frozenAt"] as? String)?.wholeMatch(of: /.*T.*\.[0-9]{6}Z/) != nil)
        // Eventually: another test's guard may hold the switch on for a few milliseconds, and may
        // have held it when `switchBefore` was read; the last guard out puts it back to off.
        #expect(
            await eventually(within: 5) {
                let now = try? String(contentsOfFile: gracePeriodsSwitch, encoding: .utf8)
                return now == switchBefore || now == "0\n"
            }, "the guard puts the kernel's switch back as it found it")
        if switchBefore == "0\n" && access(gracePeriodsSwitch, W_OK) == 0 {
            #expect(freeze["expeditedGracePeriods"] as? Bool == true)
        }
        #expect((report["snapshot"] as? [String: Any])?["id"] as? String == "copy-1")
        #expect(try disk.acceptsWrites(within: 5), "the disk is thawed after the cycle")
        #expect((try? String(contentsOfFile: "\(disk.mountPoint)/post.txt", encoding: .utf8)) == "released\n")

        // The copy is a clean file system without a journal to replay...
        let fsck = try Shell.status(["e2fsck", "-fn", copy])
        #expect(fsck.status == 0, "\(fsck.output)")
        // ...and holds the pre-script's data but nothing written after the snapshot.
        let copyMount = fixture.directory.url("copy")
        try FileManager.default.createDirectory(atPath: copyMount, withIntermediateDirectories: false)
        try Shell.run(["mount", "-o", "loop,ro", copy, copyMount])
        defer { _ = try? Shell.run(["umount", copyMount]) }
        let sessionId = report["sessionId"] as? String ?? "?"
        #expect(try String(contentsOfFile: "\(copyMount)/app.db", encoding: .utf8) == "flushed-by-pre \(sessionId)\n")
        #expect(!FileManager.default.fileExists(atPath: "\(copyMount)/post.txt"))
    }

    @Test func aSnapshotCommandThatOutlivesItsTimeIsKilledAndTheDiskThawed() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        var fixture = try FrameworkFixture(mounts: [disk.mountPoint])
        defer { fixture.remove() }
        try fixture.directory.write("snapshot.sh", "#!/bin/sh\nsleep 60\n", mode: 0o700)
        fixture.settings.requiredOwnerUid = 0
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [fixture.directory.url("snapshot.sh")]
        fixture.settings.snapshot.timeoutSeconds = 1
        let settings = try fixture.writeSettings()
        let result = try await AgentBinary.run(["run-once", "--settings", settings, "--json"])
        #expect(result.status == 1)
        let errors = try #require(try result.json()["errors"] as? [[String: Any]])
        #expect(errors.first?["code"] as? String == "SnapshotFailed")
        #expect((errors.first?["message"] as? String)?.contains("was killed") == true)
        #expect(try disk.acceptsWrites(within: 5))
    }
}
