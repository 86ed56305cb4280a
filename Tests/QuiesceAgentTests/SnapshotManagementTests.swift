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

    @Test func pruneKeepsTheNewestOfEachOrigin() {
        let record = { (origin: String, seconds: Double) in
            SnapshotRecord(
                provider: "btrfs", id: "\(origin)/\(seconds)", origin: origin,
                createdAt: Date(timeIntervalSince1970: seconds), session: "s")
        }
        let snapshots = [record("/a", 3), record("/a", 1), record("/b", 5), record("/a", 2), record("/b", 4)]
        #expect(SnapshotRetention.toDelete(snapshots, keep: 1).map(\.id) == ["/a/1.0", "/a/2.0", "/b/4.0"])
        #expect(SnapshotRetention.toDelete(snapshots, keep: 2).map(\.id) == ["/a/1.0"])
        #expect(SnapshotRetention.toDelete(snapshots, keep: 0).count == 5)
        #expect(SnapshotRetention.toDelete(snapshots, keep: 9).isEmpty)
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
