import Foundation
import QuiesceAPI
import QuiesceSystem
import Testing

@testable import QuiesceAgent

@Suite("Snapshot names, retention and lvs output")
struct SnapshotManagementTests {
    @Test func namesCarryTimeAndSessionAndOthersAreIgnored() throws {
        let date = Date(timeIntervalSince1970: 1_795_833_912.345)
        let name = SnapshotName.make(sessionId: "1a2b3c4d-5e6f-7080-90a0-b0c0d0e0f000", at: date)
        #expect(name == "quiesce-20261128T024512.345Z-1a2b3c4d")
        let parsed = try #require(SnapshotName.parse(name))
        #expect(abs(parsed.createdAt.timeIntervalSince(date)) < 0.001)
        #expect(parsed.session == "1a2b3c4d")
        #expect(SnapshotName.parse("daily-backup") == nil)
        #expect(SnapshotName.parse("quiesce-notatime-1a2b") == nil)
    }

    @Test func retentionAppliesToEachOriginOnItsOwnAndKeepsItsNewest() throws {
        let day = 86_400.0
        let now = Date(timeIntervalSince1970: 100 * day)
        let record = { (origin: String, daysAgo: Double) in
            SnapshotRecord(
                provider: "btrfs", id: "\(origin)/\(Int(daysAgo))", origin: origin,
                createdAt: now.addingTimeInterval(-daysAgo * day), session: "s")
        }
        let snapshots = [record("/a", 3), record("/a", 1), record("/b", 50), record("/a", 2), record("/b", 40)]
        let expired = { (keepLast: Int?, keepDays: Int?) in
            SnapshotManagement.expired(
                snapshots, policy: try RetentionPolicy(keepLast: keepLast, keepDays: keepDays), now: now
            ).map(\.id)
        }
        #expect(try expired(1, nil) == ["/a/3", "/a/2", "/b/50"])
        #expect(try expired(2, nil) == ["/a/3"])
        #expect(try expired(9, nil).isEmpty)
        // By age alone: /b's snapshots are all older than 10 days, but its newest stays.
        #expect(try expired(nil, 10) == ["/b/50"])
        #expect(try expired(nil, 2) == ["/a/3", "/b/50"])
    }

    @Test func lvsJSONIsReadAndForeignVolumesIgnored() throws {
        let output = """
            {"report": [{"lv": [
              {"lv_name": "quiesce-20261127T024512.345Z-1a2b3c4d", "vg_name": "vg0", "origin": "data"},
              {"lv_name": "nightly", "vg_name": "vg0", "origin": "data"},
              {"lv_name": "data", "vg_name": "vg0", "origin": ""}
            ]}]}
            """
        let records = try LVMSnapshotProvider.parseReport(output).get()
        #expect(records.map(\.id) == ["vg0/quiesce-20261127T024512.345Z-1a2b3c4d"])
        #expect(records.first?.origin == "vg0/data")
        #expect(records.first?.session == "1a2b3c4d")
        guard case .failure(let error) = LVMSnapshotProvider.parseReport("  No volume groups found") else {
            Issue.record("garbage must not parse")
            return
        }
        #expect(error.message.contains("cannot read the output of lvs"))
    }

    @Test func theMountHoldingAPathIsTheLongestPrefix() {
        let table = MountTable.parse(
            """
            1 0 8:1 / / rw - ext4 /dev/sda1 rw
            2 1 8:2 / /data rw - btrfs /dev/sda2 rw
            3 1 8:3 / /data2 rw - ext4 /dev/sda3 rw
            """)
        #expect(table.mountPoint(containing: "/data/db") == "/data")
        #expect(table.mountPoint(containing: "/data") == "/data")
        #expect(table.mountPoint(containing: "/data2x/y") == "/")
        #expect(table.mountPoint(containing: "/data2/y") == "/data2")
    }
}

/// The `command` provider's retention through the site's own list and delete programs, run as
/// real processes over a directory standing in for wherever the snapshots are kept.
@Suite("Snapshot retention through commands")
struct CommandSnapshotRetentionTests {
    private struct Site {
        let directory: String
        let provider: ManagedCommandSnapshotProvider

        /// Snapshots are files named by id, holding `origin TAB time`.
        init(snapshots: [(id: String, origin: String, time: String)], listing: String? = nil) throws {
            directory = NSTemporaryDirectory() + "quiesce-command-snapshots-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory + "/kept", withIntermediateDirectories: true)
            for snapshot in snapshots {
                try "\(snapshot.origin)\t\(snapshot.time)".write(
                    toFile: "\(directory)/kept/\(snapshot.id)", atomically: true, encoding: .utf8)
            }
            let list =
                listing ?? #"for f in "$1"/kept/*; do [ -e "$f" ] && printf '%s\t%s\n' "${f##*/}" "$(cat "$f")"; done"#
            try "#!/bin/sh\n\(list)\n".write(toFile: directory + "/list", atomically: true, encoding: .utf8)
            try "#!/bin/sh\nrm \"$1/kept/$QUIESCE_SNAPSHOT_ID\"\n".write(
                toFile: directory + "/delete", atomically: true, encoding: .utf8)
            for script in ["list", "delete"] {
                try FileManager.default.setAttributes(
                    [.posixPermissions: 0o700], ofItemAtPath: "\(directory)/\(script)")
            }
            provider = ManagedCommandSnapshotProvider(
                taking: CommandSnapshotProvider(command: ["/bin/true"], timeout: .seconds(10), killGrace: .seconds(1)),
                listCommand: [directory + "/list", directory], deleteCommand: [directory + "/delete", directory])
        }

        var kept: [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/kept")) ?? []).sorted()
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func theSitesProgramsListAndDeleteUnderTheGroupsRetention() async throws {
        let site = try Site(snapshots: [
            ("snap-1", "disk-a", "2026-11-01T02:00:00Z"), ("snap-2", "disk-a", "2026-11-02T02:00:00.5Z"),
            ("snap-3", "disk-a", "2026-11-03T02:00:00Z"), ("snap-9", "disk-b", "2026-10-01T02:00:00Z"),
        ])
        defer { site.remove() }
        let listed = await SnapshotManagement.list(site.provider)
        #expect(
            listed.errors.isEmpty && listed.snapshots.map(\.id).sorted() == ["snap-1", "snap-2", "snap-3", "snap-9"])
        let report = await SnapshotManagement.prune(
            site.provider, policy: try RetentionPolicy(keepLast: 2, keepDays: nil), dryRun: false)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.deleted.map(\.id) == ["snap-1"], "disk-b's only snapshot is its newest and stays")
        #expect(site.kept == ["snap-2", "snap-3", "snap-9"])
    }

    @Test func aListingThatCannotBeReadDeletesNothing() async throws {
        let site = try Site(
            snapshots: [("snap-1", "disk-a", "2026-11-01T02:00:00Z"), ("snap-2", "disk-a", "2026-11-02T02:00:00Z")],
            listing: #"printf 'snap-1\tdisk-a\tyesterday\n'"#)
        defer { site.remove() }
        let report = await SnapshotManagement.prune(
            site.provider, policy: try RetentionPolicy(keepLast: 1, keepDays: nil), dryRun: false)
        #expect(report.deleted.isEmpty && site.kept == ["snap-1", "snap-2"])
        #expect(report.errors.first?.contains("snapshot.listCommand line 1 is not") == true, "\(report.errors)")
    }

    @Test func aFailingDeleteIsReportedWithTheProgramsOwnWords() async throws {
        let site = try Site(snapshots: [
            ("snap-1", "disk-a", "2026-11-01T02:00:00Z"), ("snap-2", "disk-a", "2026-11-02T02:00:00Z"),
        ])
        defer { site.remove() }
        try "#!/bin/sh\necho 'snapshot is locked by a backup' >&2\nexit 3\n".write(
            toFile: site.directory + "/delete", atomically: false, encoding: .utf8)
        let report = await SnapshotManagement.prune(
            site.provider, policy: try RetentionPolicy(keepLast: 1, keepDays: nil), dryRun: false)
        #expect(report.deleted.isEmpty && site.kept == ["snap-1", "snap-2"])
        #expect(report.errors.first?.contains("snapshot is locked by a backup") == true, "\(report.errors)")
    }
}
