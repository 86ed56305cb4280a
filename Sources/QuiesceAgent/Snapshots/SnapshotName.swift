import FoundationEssentials

/// The names Quiesce gives the snapshots it makes: `quiesce-20261127T024512.345Z-1a2b3c4d`, the
/// UTC time then the session id's first eight characters. Sorting names sorts by time, and
/// nothing without the prefix is ever listed or deleted.
enum SnapshotName {
    static let prefix = "quiesce-"

    static func make(sessionId: String, at date: Date = Date()) -> String {
        prefix + date.formatted(timeStyle) + "-" + String(sessionId.prefix(8))
    }

    /// The time and session in a name made by `make`, or nil for any other name.
    static func parse(_ name: String) -> (createdAt: Date, session: String)? {
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", maxSplits: 1)
        guard parts.count == 2, let date = try? Date(String(parts[0]), strategy: timeStyle) else { return nil }
        return (date, String(parts[1]))
    }

    private static let timeStyle = Date.ISO8601FormatStyle(
        dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted,
        includingFractionalSeconds: true,
        timeZone: .gmt)
}
