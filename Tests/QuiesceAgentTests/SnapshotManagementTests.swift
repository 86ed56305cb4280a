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
