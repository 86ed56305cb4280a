import Foundation
import QuiesceCoordinator
import QuiesceSystem
import QuiesceTestSupport
import Synchronization
import Testing

/// The scheduler against a real history store and a clock the test moves: which planned runs
/// run, which are recorded as missed, skipped or interrupted, and that none runs twice.
@Suite struct SchedulerTests {
    /// Time that passes only when the scheduler sleeps or a job takes it.
    final class TestClock: SchedulerClock {
        private let time: Mutex<Date>
        /// Told of each wake-up before the scheduler sees it: what happens meanwhile.
        let whileAsleep: @Sendable (Date) async -> Void
        init(_ start: Date, whileAsleep: @escaping @Sendable (Date) async -> Void = { _ in }) {
            time = Mutex(start)
            self.whileAsleep = whileAsleep
        }
        func now() -> Date { time.withLock { $0 } }
        func advance(by seconds: TimeInterval) { time.withLock { $0 += seconds } }
        func sleep(until date: Date) async throws {
            try Task.checkCancellation()
            await Task.yield()
            await whileAsleep(date)
            time.withLock { $0 = max($0, date) }
        }
    }

    final class RunLog: Sendable {
        private let list = Mutex<[Date]>([])
        func append(_ date: Date) -> Int {
            list.withLock { list in
                list.append(date)
                return list.count
            }
        }
        var all: [Date] { list.withLock { $0 } }
    }

    /// A job on `cron` (UTC) that records when it ran and ends the service after `runs` runs.
    struct Fixture {
        let directory: TemporaryDirectory
        let store: HistoryStore
        let clock: TestClock
        let shutdown = GracefulShutdown()
        let ran = RunLog()

        init(
            now: String, losingFirstClaimAnswer: Bool = false,
            whileAsleep: @escaping @Sendable (HistoryStore, Date) async -> Void = { _, _ in }
        ) throws {
            directory = try TemporaryDirectory()
            let database = try SQLiteHistoryDatabase(directory: directory.path)
            let store = HistoryStore(database: losingFirstClaimAnswer ? LosesFirstClaimAnswer(database) : database)
            self.store = store
            clock = TestClock(try Self.date(now)) { await whileAsleep(store, $0) }
        }

        static func date(_ text: String) throws -> Date {
            try #require(ISO8601DateFormatter().date(from: text))
        }

        func run(_ cron: String, runs: Int, taking seconds: TimeInterval = 0) async throws {
            let job = ScheduledJob(name: "snapshot/payments", schedule: try CronSchedule(cron, timeZone: "UTC")) {
                [clock, ran, shutdown] _ in
                let count = ran.append(clock.now())
                clock.advance(by: seconds)
                if count == runs { shutdown.trigger() }
                return .init(succeeded: true, runId: nil, summary: "run \(count)")
            }
            try await Scheduler(jobs: [job], store: store, clock: clock) { _ in }.run(shutdown: shutdown)
        }

        func rows() async throws -> [ScheduledRun] { try await store.scheduledRuns().reversed() }
    }

    @Test func runsAtEachPlannedTimeAndRecordsEach() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z")
        defer { fixture.directory.remove() }
        try await fixture.run("*/5 * * * *", runs: 3)
        let rows = try await fixture.rows()
        #expect(
            rows.map(\.plannedAt)
                == (try ["10:05", "10:10", "10:15"].map { try Fixture.date("2026-12-04T\($0):00Z") }))
        #expect(
            rows.allSatisfy { $0.state == .succeeded && $0.lateness == .zero && $0.owner == ScheduledRun.thisProcess })
        #expect(rows.map(\.note) == ["run 1", "run 2", "run 3"])
    }

    @Test func afterDowntimeTheLatestRunCatchesUpAndTheRestAreOneMissedRow() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z")
        defer { fixture.directory.remove() }
        try await fixture.store.recordNotRun(
            ScheduledRun(
                job: "snapshot/payments", plannedAt: try Fixture.date("2026-12-04T07:00:00Z"), state: .succeeded,
                owner: "earlier:1"))
        try await fixture.run("*/5 * * * *", runs: 1)
        let rows = try await fixture.rows()
        #expect(rows.count == 3, "\(rows)")
        let missed = try #require(rows.first { $0.state == .missed })
        #expect(missed.plannedAt == (try Fixture.date("2026-12-04T09:55:00Z")))
        #expect(missed.note.contains("35 runs from 2026-12-04"), "\(missed.note)")
        let caughtUp = try #require(rows.last)
        #expect(caughtUp.state == .succeeded)
        #expect(caughtUp.plannedAt == (try Fixture.date("2026-12-04T10:00:00Z")))
        #expect(caughtUp.lateness == .seconds(120))
    }

    @Test func aRunStillGoingWhenTheNextIsDueMakesItSkippedNotDoubled() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z")
        defer { fixture.directory.remove() }
        // Each run takes 12 minutes of a 5-minute schedule.
        try await fixture.run("*/5 * * * *", runs: 2, taking: 12 * 60)
        let rows = try await fixture.rows()
        #expect(rows.map(\.state) == [.succeeded, .skipped, .succeeded], "\(rows)")
        #expect(rows[1].plannedAt == (try Fixture.date("2026-12-04T10:10:00Z")))
        #expect(rows[1].note.contains("the previous run was still going"))
        #expect(rows[2].plannedAt == (try Fixture.date("2026-12-04T10:15:00Z")))
        #expect(rows[2].lateness == .seconds(120))
        #expect(fixture.ran.all.count == 2)
    }

    @Test func aRunClaimedByAnotherCoordinatorIsNotRunHere() async throws {
        let planned = try Fixture.date("2026-12-04T10:05:00Z")
        // Another coordinator on the same store claims 10:05 while this one waits for it.
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z") { store, wakingAt in
            guard wakingAt == planned else { return }
            #expect((try? await store.claim("snapshot/payments", plannedAt: planned, startedAt: planned)) == true)
        }
        defer { fixture.directory.remove() }
        try await fixture.run("*/5 * * * *", runs: 1)
        #expect(
            (try await fixture.store.claim("snapshot/payments", plannedAt: planned, startedAt: planned)) == false,
            "a planned run is claimed once")
        #expect(try await fixture.store.scheduledRuns(job: "snapshot/payments").last?.plannedAt == planned)
        #expect(fixture.ran.all == [try Fixture.date("2026-12-04T10:10:00Z")])
    }

    /// SQLite, except that the first claim's answer is lost after the claim committed: what a
    /// PostgreSQL store that takes a claim but answers too late looks like.
    final class LosesFirstClaimAnswer: HistoryDatabase {
        struct LostAnswer: Error {}
        let database: SQLiteHistoryDatabase
        private let lost = Mutex(false)
        init(_ database: SQLiteHistoryDatabase) { self.database = database }
        var location: String { database.location }
        var remedy: String { database.remedy }
        func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] { try await database.rows(sql, binds) }
        func compact() async throws { try await database.compact() }
        func close() async { await database.close() }

        func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
            let answer = try await database.transaction(statements)
            let isClaim =
                statements.count == 1 && statements[0].sql.contains("INSERT INTO scheduledRun")
                && statements[0].rows.first?.contains(.text("running")) == true
            let losesThisOne =
                isClaim
                && lost.withLock { lost in
                    defer { lost = true }
                    return !lost
                }
            if losesThisOne { throw LostAnswer() }
            return answer
        }
    }

    @Test func aClaimWhoseAnswerIsLostIsRecordedAsNotRunNotLeftRunning() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z", losingFirstClaimAnswer: true)
        defer { fixture.directory.remove() }
        try await fixture.run("*/5 * * * *", runs: 1)
        let rows = try await fixture.rows()
        #expect(rows.map(\.state) == [.failed, .succeeded])
        #expect(rows.first?.note == "not run: the history store did not confirm its claim")
        #expect(fixture.ran.all == [try Fixture.date("2026-12-04T10:10:00Z")])
    }

    @Test func aRunLeftRunningByADeadProcessIsMarkedInterrupted() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z")
        defer { fixture.directory.remove() }
        let planned = try Fixture.date("2026-12-04T10:00:00Z")
        let dead = ChildProcessHelpers.deadProcessID()
        try await fixture.store.recordNotRun(
            ScheduledRun(
                job: "snapshot/payments", plannedAt: planned, state: .running,
                owner: "\(CurrentProcess.hostName):\(dead)", startedAt: planned))
        try await fixture.run("*/5 * * * *", runs: 1)
        let interrupted = try #require(try await fixture.rows().first)
        #expect(interrupted.state == .interrupted)
        #expect(interrupted.note.contains("stopped before it finished"))
    }

    @Test func shutdownWhileWaitingEndsAtOnceWithoutARun() async throws {
        let fixture = try Fixture(now: "2026-12-04T10:02:00Z")
        defer { fixture.directory.remove() }
        fixture.shutdown.trigger()
        try await fixture.run("*/5 * * * *", runs: 1)
        #expect(try await fixture.rows().isEmpty)
    }
}

enum ChildProcessHelpers {
    /// The id of a process that has exited: one above the largest live one would do, but a child
    /// that was reaped is certain.
    static func deadProcessID() -> Int32 {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try? child.run()
        child.waitUntilExit()
        return child.processIdentifier
    }
}
