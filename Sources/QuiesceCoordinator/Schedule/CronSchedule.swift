import Foundation

/// A group's backup schedule: a cron expression read in an explicit time zone.
///
/// Five fields, minute hour day-of-month month day-of-week, each `*`, a number, a range `a-b`, a
/// step `*/n` or `a-b/n`, or a comma list of those; months and weekdays also by name (`jan`,
/// `mon`), Sunday as 0 or 7; or one of `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
/// When both day fields are restricted a day matches either, as in every cron since Vixie's.
///
/// Clock changes: a time that does not exist on a day the clocks go forward runs as long after
/// the change as it was meant to be after its start (02:30 on a day that skips 02:00-03:00 runs at
/// 03:30); a time that happens twice on a day the clocks go back runs once, the first time.
///
///     let schedule = try CronSchedule("30 2 * * mon-fri", timeZone: "Europe/Berlin")
///     schedule.next(after: Date())   // the next weekday's 02:30 in Berlin
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let expression: String
    public let timeZone: TimeZone
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    /// 0 is Sunday.
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    /// Why an expression or a time zone was refused, naming the field and how to fix it.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    public init(_ expression: String, timeZone identifier: String) throws(Invalid) {
        guard let zone = TimeZone(identifier: identifier) else {
            throw Invalid(
                description: "unknown time zone `\(identifier)`: use an IANA name such as `UTC` or `Europe/Berlin`")
        }
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        let fields = (Self.macros[trimmed.lowercased()] ?? trimmed).split(
            separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5 else {
            throw Invalid(
                description: "`\(expression)` has \(fields.count) field\(fields.count == 1 ? "" : "s"); a schedule "
                    + "has 5 (minute hour day-of-month month day-of-week, e.g. `30 2 * * *`) or is one of "
                    + Self.macros.keys.sorted().map { "`\($0)`" }.joined(separator: ", "))
        }
        self.expression = trimmed
        timeZone = zone
        minutes = try Self.parse(fields[0], Field(name: "minute", range: 0...59))
        hours = try Self.parse(fields[1], Field(name: "hour", range: 0...23))
        days = try Self.parse(fields[2], Field(name: "day of month", range: 1...31))
        months = try Self.parse(fields[3], Field(name: "month", range: 1...12, names: Self.monthNames))
        weekdays = Set(
            try Self.parse(fields[4], Field(name: "day of week", range: 0...7, names: Self.weekdayNames)).map { $0 % 7 }
        )
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        guard next(after: Date(timeIntervalSince1970: 0)) != nil else {
            throw Invalid(description: "`\(expression)` never runs: no month has such a day")
        }
    }

    public var description: String { "\(expression) (\(timeZone.identifier))" }

    /// The first time after `date` the schedule fires, to the minute; nil if none in eight years.
    public func next(after date: Date) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: date)
        // On the first day, the times before `date`'s own hour and minute are passed already.
        let now = calendar.dateComponents([.hour, .minute], from: date)
        var earliest = (hour: now.hour ?? 0, minute: now.minute ?? 0)
        let (hours, minutes) = (self.hours.sorted(), self.minutes.sorted())
        for _ in 0..<(8 * 366) {
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                months.contains(month), matches(day: dayOfMonth, weekday: weekday - 1)
            {
                for hour in hours where hour >= earliest.hour {
                    for minute in minutes where hour > earliest.hour || minute >= earliest.minute {
                        var wanted = parts
                        wanted.weekday = nil
                        (wanted.hour, wanted.minute) = (hour, minute)
                        if let time = calendar.date(from: wanted), time > date { return time }
                    }
                }
            }
            guard let following = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: following)
            earliest = (0, 0)
        }
        return nil
    }

    private func matches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }

    private struct Field {
        var name: String
        var range: ClosedRange<Int>
        var names: [String] = []
    }

    private static let macros = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    /// Index = value: January is 1, Sunday 0.
    private static let monthNames = [
        "", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    private static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    private static func parse(_ text: Substring, _ field: Field) throws(Invalid) -> Set<Int> {
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(pieces.count) else { throw invalid(part, field, "has more than one `/`") }
            var step = 1
            if pieces.count == 2 {
                guard let number = Int(pieces[1]), number >= 1 else {
                    throw invalid(part, field, "has a step `\(pieces[1])` that is not a whole number of 1 or more")
                }
                step = number
            }
            let bounds: ClosedRange<Int>
            if pieces[0] == "*" {
                bounds = field.range
            } else {
                let ends = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
                guard (1...2).contains(ends.count) else { throw invalid(part, field, "is not a value or a range") }
                let low = try value(ends[0], field, in: part)
                let high =
                    ends.count == 2
                    ? try value(ends[1], field, in: part) : (pieces.count == 2 ? field.range.upperBound : low)
                guard low <= high else { throw invalid(part, field, "runs backwards; write the smaller end first") }
                bounds = low...high
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }

    private static func value(_ text: Substring, _ field: Field, in part: Substring) throws(Invalid) -> Int {
        if let index = field.names.firstIndex(of: text.lowercased()), !text.isEmpty { return index }
        guard let number = Int(text), field.range.contains(number) else {
            let names = field.names.filter { !$0.isEmpty }
            throw invalid(
                part, field,
                "has `\(text)`, not a \(field.name) from \(field.range.lowerBound) to \(field.range.upperBound)"
                    + (names.isEmpty ? "" : " or a name (\(names.joined(separator: ", ")))"))
        }
        return number
    }

    private static func invalid(_ part: Substring, _ field: Field, _ problem: String) -> Invalid {
        Invalid(description: "the \(field.name) field `\(part)` \(problem)")
    }
}
