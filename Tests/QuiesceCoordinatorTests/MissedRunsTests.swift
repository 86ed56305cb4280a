import Foundation
import QuiesceCoordinator
import Testing

@Suite("Missed runs")
struct MissedRunsTests {
    private func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    @Test func theLatestRunsAtOnceIfRecentAndTheRestAreMissed() throws {
        let nightly = try CronSchedule("0 2 * * *", timeZone: "UTC")
        // Down from the 1st's run to the 4th at 02:20: the 2nd, 3rd and 4th were planned.
        let back = MissedRuns(nightly, lastPlanned: utc("2026-12-01T02:00:00Z"), now: utc("2026-12-04T02:20:00Z"))
        #expect(back.catchUp == utc("2026-12-04T02:00:00Z"))
        #expect(
            back.count == 2 && back.first == utc("2026-12-02T02:00:00Z") && back.last == utc("2026-12-03T02:00:00Z"))
    }

    @Test func aRunTooLateIsMissedNotStarted() throws {
        let nightly = try CronSchedule("0 2 * * *", timeZone: "UTC")
        let back = MissedRuns(nightly, lastPlanned: utc("2026-12-03T02:00:00Z"), now: utc("2026-12-04T09:00:00Z"))
        #expect(back.catchUp == nil)
        #expect(back.count == 1 && back.first == back.last && back.last == utc("2026-12-04T02:00:00Z"))
        let none = MissedRuns(nightly, lastPlanned: utc("2026-12-04T02:00:00Z"), now: utc("2026-12-04T09:00:00Z"))
        #expect(none.count == 0 && none.catchUp == nil && none.first == nil)
    }

    @Test func aLongGapOfAFrequentScheduleIsCountedNotListed() throws {
        let everyMinute = try CronSchedule("* * * * *", timeZone: "UTC")
        let week = MissedRuns(
            everyMinute, lastPlanned: utc("2026-11-27T00:00:00Z"), now: utc("2026-12-04T00:00:30Z"),
            catchUpWithin: .seconds(60))
        #expect(week.catchUp == utc("2026-12-04T00:00:00Z"))
        #expect(week.count == 7 * 1440 - 1)
    }
}
