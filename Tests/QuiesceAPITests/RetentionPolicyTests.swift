import Foundation
import QuiesceAPI
import Testing

@Suite("Retention policy")
struct RetentionPolicyTests {
    private let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// One snapshot a day, the newest today: `s0` is today's, `s9` nine days old.
    private func daily(_ count: Int) -> [RetentionPolicy.Snapshot] {
        (0..<count).map {
            RetentionPolicy.Snapshot(id: "s\($0)", takenAt: now.addingTimeInterval(-Double($0) * 86_400))
        }
    }

    @Test func eitherRuleKeepsASnapshot() throws {
        let snapshots = daily(10)
        #expect(
            try RetentionPolicy(keepLast: 3).expired(snapshots, now: now).map(\.id) == [
                "s9", "s8", "s7", "s6", "s5", "s4", "s3",
            ])
        #expect(try RetentionPolicy(keepDays: 5).expired(snapshots, now: now).map(\.id) == ["s9", "s8", "s7", "s6"])
        #expect(
            try RetentionPolicy(keepLast: 7, keepDays: 2).expired(snapshots, now: now).map(\.id) == ["s9", "s8", "s7"])
        #expect(
            try RetentionPolicy(keepLast: 3).expired(snapshots.shuffled(), now: now).first?.id == "s9", "oldest first")
    }

    @Test func theNewestIsNeverDeletedHoweverOld() throws {
        let old = [RetentionPolicy.Snapshot(id: "last-good", takenAt: now.addingTimeInterval(-90 * 86_400))]
        #expect(try RetentionPolicy(keepDays: 7).expired(old, now: now).isEmpty)
    }

    @Test func aPolicyMustKeepSomething() {
        #expect(throws: RetentionPolicy.Invalid.self) { try RetentionPolicy() }
        #expect(throws: RetentionPolicy.Invalid.self) { try RetentionPolicy(keepLast: 0) }
        #expect(throws: RetentionPolicy.Invalid.self) { try RetentionPolicy(keepDays: -1) }
    }
}
