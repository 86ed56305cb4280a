import Foundation
import QuiesceTestSupport
import Testing

/// `quiesce prune`: a group's retention over its members and the history, against simulated
/// agents (whose provider keeps nothing on the VM; the btrfs side is SnapshotRoutesTests').
@Suite("quiesce prune")
struct PruneCommandTests {
    @Test func theGroupsRetentionPrunesItsHistoryAndIsRecorded() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 2, group: #"{"retention": {"keepLast": 1}}"#)
        let files = try PushCommandTests.Files(fleet)
        let push = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        for _ in 1...3 {
            let snapshot = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all"])
            #expect(snapshot.status == 0, "\(snapshot.stdout)\(snapshot.stderr)")
        }
        let snapshotRuns = { () async throws -> Int in
            let listed = try await fleet.coordinator(["history", "--kind", "snapshot", "--json"])
            return (try listed.json()["runs"] as? [Any])?.count ?? -1
        }
        #expect(try await snapshotRuns() == 3)

        let dryRun = try await fleet.coordinator([
            "prune", "--fleet", inventory, "--group", "all", "--dry-run", "--json",
        ])
        #expect(dryRun.status == 0, "\(dryRun.stdout)\(dryRun.stderr)")
        let wouldGo = try dryRun.json()
        #expect((wouldGo["historyRunsDeleted"] as? [Any])?.count == 2, "\(wouldGo)")
        let members = try #require(wouldGo["members"] as? [[String: Any]])
        #expect(members.map { $0["status"] as? String } == ["notManaged", "notManaged"], "\(members)")
        #expect(try await snapshotRuns() == 3, "a dry run deletes nothing")

        let pruned = try await fleet.coordinator(["prune", "--fleet", inventory, "--group", "all"])
        #expect(pruned.status == 0, "\(pruned.stdout)\(pruned.stderr)")
        #expect(pruned.stdout.contains("history: runs"), "\(pruned.stdout)")
        #expect(try await snapshotRuns() == 1)
        let prunes = try await fleet.coordinator(["history", "--kind", "prune"])
        #expect(prunes.stdout.contains("deleted 0 snapshots on 2 VMs"), "\(prunes.stdout)")
    }

    @Test func aGroupWithoutRetentionIsRefusedWithTheFix() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 1)
        let result = try await fleet.coordinator(["prune", "--fleet", inventory, "--group", "all"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("group all has no `retention`") && result.stderr.contains("keepLast"))
    }
}
