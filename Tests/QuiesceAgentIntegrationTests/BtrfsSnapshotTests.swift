import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// The btrfs provider for real, on a loop-mounted btrfs image beside a frozen ext4 image.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct BtrfsSnapshotTests {
    @Test func readOnlySnapshotsAreTakenUnfrozenListedAndPruned() async throws {
        let ext4 = try await LoopImage.make(name: "ext4")
        defer { ext4.remove() }
        let btrfs = try await LoopImage.make(sizeMiB: 160, name: "btrfs", fileSystem: "btrfs")
        defer { btrfs.remove() }
        let subvolume = "\(btrfs.mountPoint)/data"
        try Shell.run(["btrfs", "subvolume", "create", subvolume])
        try "rows\n".write(toFile: "\(subvolume)/table", atomically: false, encoding: .utf8)

        var fixture = try FrameworkFixture(mounts: [ext4.mountPoint, btrfs.mountPoint])
        defer { fixture.remove() }
        fixture.settings.requiredOwnerUid = 0
        fixture.settings.snapshot.provider = .btrfs
        fixture.settings.snapshot.btrfsSubvolumes = [subvolume]
        let settings = try fixture.writeSettings()

        for _ in 0..<3 {
            let result = try await AgentBinary.run(["run-once", "--settings", settings, "--json"])
            #expect(result.status == 0, "\(result.stdout)")
            let report = try result.json()
            #expect(report["consistency"] as? String == "applicationConsistent")
            let freeze = try #require(report["freeze"] as? [String: Any])
            #expect(freeze["mounts"] as? [String] == [ext4.mountPoint], "the ext4 disk is frozen")
            #expect(
                freeze["atomicMounts"] as? [String] == [btrfs.mountPoint],
                "the btrfs one is not: its snapshot is atomic")
        }

        let listed = try await AgentBinary.run(["snapshots", "list", "--settings", settings, "--json"])
        let snapshots = try #require(try listed.json()["snapshots"] as? [[String: Any]])
        #expect(snapshots.count == 3)
        let newest = try #require(snapshots.last?["id"] as? String)
        #expect(try String(contentsOfFile: "\(newest)/table", encoding: .utf8) == "rows\n")
        #expect(try Shell.run(["btrfs", "property", "get", "-ts", newest, "ro"]).contains("ro=true"))

        let dryRun = try await AgentBinary.run([
            "snapshots", "prune", "--keep", "1", "--dry-run", "--settings", settings, "--json",
        ])
        #expect((try dryRun.json()["deleted"] as? [Any])?.count == 2)
        let pruned = try await AgentBinary.run(["snapshots", "prune", "--keep", "1", "--settings", settings, "--json"])
        #expect(pruned.status == 0, "\(pruned.stdout)")
        let remaining = try #require(try pruned.json()["snapshots"] as? [[String: Any]])
        #expect(remaining.map { $0["id"] as? String } == [newest])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(subvolume)/.snapshots") == [
                (newest as NSString).lastPathComponent
            ])
    }

    @Test func listingNeedsAManagedProvider() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let result = try await AgentBinary.run(["snapshots", "list", "--settings", try fixture.writeSettings()])
        #expect(result.status == 2)
        #expect(result.stderr.contains("keeps no snapshots on this machine"))
    }
}
