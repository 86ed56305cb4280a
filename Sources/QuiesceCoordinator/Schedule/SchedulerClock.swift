import Foundation

/// The time a scheduler reads and waits on: the wall clock in service, a clock a test moves.
public protocol SchedulerClock: Sendable {
    func now() -> Date
    /// Returns at `date`, or throws `CancellationError` if the task is cancelled first.
    func sleep(until date: Date) async throws
}

/// The system's wall clock: a schedule is wall time ("02:30 in Berlin"), so a clock step (NTP, a
/// resumed VM) is noticed within a minute rather than slept through.
public struct WallSchedulerClock: SchedulerClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        while true {
            let left = date.timeIntervalSinceNow
            if left <= 0 { return }
            try await Task.sleep(for: .seconds(min(left, 60)))
        }
    }
}
