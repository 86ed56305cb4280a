import FoundationEssentials
import Glibc

/// Work that must not run on Swift's cooperative pool: calls that block for long (a flush) or
/// that must happen at a precise instant whatever the pool is busy with.
public enum OwnThread {
    /// `body` on a thread of its own; its result once it returns.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            pthread_detach(Thread.start { continuation.resume(returning: body()) })
        }
    }

    /// `body` on a thread of its own at `instant` by the wall clock (at once if it is past).
    public static func run<T: Sendable>(at instant: Date, _ body: @escaping @Sendable () -> T) async -> T {
        await run {
            WallClock.sleep(untilMicroseconds: Int64((instant.timeIntervalSince1970 * 1_000_000).rounded()))
            return body()
        }
    }
}

/// The real-time clock, which is what agents agree on across machines.
public enum WallClock {
    /// Microseconds since the epoch.
    public static func nowMicroseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    /// Sleeps until `instant` (microseconds since the epoch) with one absolute `clock_nanosleep`,
    /// so the wake-up is as close to the instant as the scheduler allows.
    public static func sleep(untilMicroseconds instant: Int64) {
        var target = timespec(tv_sec: Int(instant / 1_000_000), tv_nsec: Int(instant % 1_000_000) * 1000)
        while clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &target, nil) == EINTR {}
    }
}
