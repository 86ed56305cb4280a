import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

@testable import QuiesceAgent

/// `GET /v1/snapshots` and `POST /v1/snapshots/prune`: the coordinator's way to carry out a
/// group's retention on each VM.
@Suite struct SnapshotRoutesTests {
    @Test func anAgentWhoseProviderKeepsNoSnapshotsSaysSoAndDeletesNothing() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let listed = try await server.send("GET", "/v1/snapshots")
        #expect(listed.status == 409 && listed.text.contains("NoManagedSnapshots"), "\(listed.text)")
        let pruned = try await server.send("POST", "/v1/snapshots/prune", body: Array(#"{"keepLast": 3}"#.utf8))
        #expect(pruned.status == 409 && pruned.text.contains("keeps no snapshots on this machine"), "\(pruned.text)")
    }

    @Test func aBadRetentionIsRefusedNamingIt() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        for (body, expected) in [
            (#"{"keepLast": 0}"#, "`keepLast` is 0"),
            (#"{}"#, "needs `keepLast`"),
            (#"{"keepLast": 2, "keep": 1}"#, "keep"),
            (#"{"keepLast": "two"}"#, "keepLast"),
        ] {
            let answer = try await server.send("POST", "/v1/snapshots/prune", body: Array(body.utf8))
            #expect(answer.status == 400, "\(body): \(answer.text)")
            #expect(answer.text.contains(expected), "\(body): \(answer.text)")
        }
    }

    /// Real btrfs snapshots on a loop-mounted image: the oldest go, the newest stays.
    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func retentionDeletesTheSnapshotsItLetsGoOnARealBtrfs() async throws {
        let btrfs = try await LoopImage.make(sizeMiB: 160, name: "btrfs", fileSystem: "btrfs")
        defer { btrfs.remove() }
        let subvolume = "\(btrfs.mountPoint)/data"
        try Shell.run(["btrfs", "subvolume", "create", subvolume])
        try FileManager.default.createDirectory(atPath: "\(subvolume)/.snapshots", withIntermediateDirectories: false)
        let now = Date()
        var names: [String] = []
        for daysAgo in [3.5, 1.5, 0.5] {
            let name = SnapshotName.make(
                sessionId: UUID().uuidString.lowercased(), at: now.addingTimeInterval(-daysAgo * 86_400))
            try Shell.run(["btrfs", "subvolume", "snapshot", "-r", subvolume, "\(subvolume)/.snapshots/\(name)"])
            names.append(name)
        }
        let server = try await ServerFixture.start { settings in
            settings.requiredOwnerUid = 0
            settings.snapshot.provider = .btrfs
            settings.snapshot.btrfsSubvolumes = [subvolume]
        }
        defer { server.stop() }

        let dryRun = try await server.send(
            "POST", "/v1/snapshots/prune", body: Array(#"{"keepLast": 1, "dryRun": true}"#.utf8))
        #expect(dryRun.status == 200, "\(dryRun.text)")
        let wouldGo = try QuiesceJSON.decode(SnapshotsReport.self, from: dryRun.body)
        #expect(wouldGo.deleted.map { ($0.id as NSString).lastPathComponent } == Array(names.prefix(2)))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(subvolume)/.snapshots").count == 3,
            "a dry run deletes nothing")

        // The last one, and every one younger than 2 days: the one of three and a half days ago goes.
        let answer = try await server.send(
            "POST", "/v1/snapshots/prune", body: Array(#"{"keepLast": 1, "keepDays": 2}"#.utf8))
        #expect(answer.status == 200, "\(answer.text)")
        let report = try QuiesceJSON.decode(SnapshotsReport.self, from: answer.body)
        #expect(report.deleted.map { ($0.id as NSString).lastPathComponent } == [names[0]])
        #expect(report.errors.isEmpty)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(subvolume)/.snapshots").sorted()
                == Array(names.suffix(2)))
        let listed = try await server.send("GET", "/v1/snapshots")
        let remaining = try QuiesceJSON.decode(SnapshotsReport.self, from: listed.body)
        #expect(remaining.snapshots.count == 2)
    }
}
