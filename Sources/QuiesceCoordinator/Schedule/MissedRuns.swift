import Foundation

/// What a coordinator that was down does about the runs its schedule planned meanwhile: the
/// latest one runs at once if it was due no longer ago than `catchUpWithin` (a backup an hour
/// late is still the night's backup); every other one is recorded as missed and never run late,
/// so coming back after a week does not start seven snapshots in a burst.
public struct MissedRuns: Sendable, Equatable {
    /// How many planned runs fell in the gap, and the first and last of them.
    public var count: Int
    public var first: Date?
    public var last: Date?
    /// The run to start now, which is the last missed one; not counted in `count`.
    public var catchUp: Date?

    /// The runs `schedule` planned after `lastPlanned` up to `now`, and what to do about them.
    public init(_ schedule: CronSchedule, lastPlanned: Date, now: Date, catchUpWithin: Duration = .seconds(3600)) {
        // Counted in full, kept only at the ends: an every-minute schedule down for a week is 10,080.
        var (count, first, last, beforeLast): (Int, Date?, Date?, Date?) = (0, nil, nil, nil)
        while let next = schedule.next(after: last ?? lastPlanned), next <= now {
            count += 1
            first = first ?? next
            (beforeLast, last) = (last, next)
        }
        if let last, now.timeIntervalSince(last) <= catchUpWithin / .seconds(1) {
            (self.count, self.first, self.last, catchUp) = (count - 1, count > 1 ? first : nil, beforeLast, last)
        } else {
            (self.count, self.first, self.last, catchUp) = (count, first, last, nil)
        }
    }
}
