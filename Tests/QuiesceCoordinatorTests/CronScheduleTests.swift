import Foundation
import QuiesceCoordinator
import Testing

@Suite("Cron schedule")
struct CronScheduleTests {
    private func utc(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    private func next(_ expression: String, _ zone: String = "UTC", after: String) throws -> Date? {
        try CronSchedule(expression, timeZone: zone).next(after: utc(after))
    }

    @Test func fieldsListsRangesStepsAndNames() throws {
        #expect(try next("30 2 * * *", after: "2026-12-04T01:00:00Z") == utc("2026-12-04T02:30:00Z"))
        #expect(try next("30 2 * * *", after: "2026-12-04T02:30:00Z") == utc("2026-12-05T02:30:00Z"), "strictly after")
        #expect(try next("*/15 * * * *", after: "2026-12-04T10:07:59Z") == utc("2026-12-04T10:15:00Z"))
        #expect(try next("0 9-17/4 * * *", after: "2026-12-04T13:00:00Z") == utc("2026-12-04T17:00:00Z"))
        #expect(try next("0 3 * * mon-fri", after: "2026-12-04T04:00:00Z") == utc("2026-12-07T03:00:00Z"), "Fri to Mon")
        #expect(try next("0 0 * * 7", after: "2026-12-04T00:00:00Z") == utc("2026-12-06T00:00:00Z"), "7 is Sunday")
        #expect(try next("0 0 1 jan,jul *", after: "2026-12-04T00:00:00Z") == utc("2027-01-01T00:00:00Z"))
        #expect(try next("@weekly", after: "2026-12-04T00:00:00Z") == utc("2026-12-06T00:00:00Z"))
        #expect(try next("0 0 29 2 *", after: "2026-03-01T00:00:00Z") == utc("2028-02-29T00:00:00Z"), "leap day")
    }

    @Test func bothDayFieldsMeanEitherDay() throws {
        // The 13th, or any Friday: Friday 2026-12-04 comes before Sunday the 13th.
        #expect(try next("0 0 13 * fri", after: "2026-12-01T00:00:00Z") == utc("2026-12-04T00:00:00Z"))
        #expect(try next("0 0 13 * fri", after: "2026-12-12T00:00:00Z") == utc("2026-12-13T00:00:00Z"))
    }

    @Test func theTimeZoneIsTheSchedules() throws {
        // 02:30 in Berlin is 01:30 UTC in winter.
        #expect(try next("30 2 * * *", "Europe/Berlin", after: "2026-12-04T00:00:00Z") == utc("2026-12-04T01:30:00Z"))
    }

    @Test func clockChangesSkipNothingAndRepeatNothing() throws {
        let berlin = try CronSchedule("30 2 * * *", timeZone: "Europe/Berlin")
        // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 runs at 03:30 CEST (01:30 UTC).
        let spring = try #require(berlin.next(after: utc("2026-03-28T12:00:00Z")))
        #expect(spring == utc("2026-03-29T01:30:00Z"))
        // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice and runs the first time.
        let autumn = try #require(berlin.next(after: utc("2026-10-24T12:00:00Z")))
        #expect(autumn == utc("2026-10-25T00:30:00Z"))
        #expect(berlin.next(after: autumn) == utc("2026-10-26T01:30:00Z"), "not again an hour later")
    }

    @Test func badExpressionsNameTheFieldAndTheFix() {
        let cases: [(String, String, String)] = [
            ("61 * * * *", "UTC", "the minute field `61` has `61`, not a minute from 0 to 59"),
            ("0 0 * * funday", "UTC", "or a name (sun, mon, tue, wed, thu, fri, sat)"),
            ("0 0 * *", "UTC", "has 4 fields; a schedule has 5"),
            ("0 5-1 * * *", "UTC", "runs backwards"),
            ("*/0 * * * *", "UTC", "step `0`"),
            ("0 0 30 2 *", "UTC", "never runs"),
            ("0 0 * * *", "Mars/Olympus", "unknown time zone `Mars/Olympus`"),
        ]
        for (expression, zone, message) in cases {
            do {
                _ = try CronSchedule(expression, timeZone: zone)
                Issue.record("`\(expression)` was accepted")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }
}
