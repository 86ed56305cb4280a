import Foundation
import QuiesceSystem

/// Something `quiesce serve` runs on a schedule: a group's snapshot, the fleet's sweep.
public struct ScheduledJob: Sendable {
    /// `snapshot/<group>` or `sweep`: the name its runs are recorded under.
    public var name: String
    public var schedule: CronSchedule
    public var work: @Sendable (Run) async -> Outcome
    /// What to do about a run of this job that a dead coordinator left, already marked
    /// interrupted: a snapshot job releases its group session and raises an event. Says what
    /// was done.
    public var takeOver: (@Sendable (ScheduledRun) async -> String)?

    /// The run under way, as its work sees it.
    public struct Run: Sendable {
        public var plannedAt: Date
        /// Records the group session the run is about to open, so that another coordinator can
        /// release it if this one dies.
        public var noteSession: @Sendable (String) async -> Void
    }

    public struct Outcome: Sendable {
        public var succeeded: Bool
        /// The history run it recorded, if it got that far.
        public var runId: Int64?
        public var summary: String

        public init(succeeded: Bool, runId: Int64?, summary: String) {
            self.succeeded = succeeded
            self.runId = runId
            self.summary = summary
        }
    }

    public init(
        name: String, schedule: CronSchedule,
        takeOver: (@Sendable (ScheduledRun) async -> String)? = nil,
        work: @escaping @Sendable (Run) async -> Outcome
    ) {
        self.name = name
        self.schedule = schedule
        self.takeOver = takeOver
        self.work = work
    }
}

/// Runs every job at the times its schedule plans, each job one run at a time: a run that is
/// still going when the next is due makes that one skipped, not a second run beside it. Every
/// planned run is claimed in the history store before it starts (`HistoryStore.claim`), and
/// what became of it recorded: succeeded, failed, missed (`MissedRuns`: the coordinator was
/// down), skipped, or interrupted.
///
/// Coordinators sharing a store heartbeat into it every `heartbeatInterval`. A run left
/// `running` by one that fell silent for `staleAfter` (or by a dead process of this host) is
/// marked interrupted by whichever is alive, and its group session finished on every member at
/// once, rather than when the agents' leases run out; the next planned run is claimed by a live
/// coordinator as any other.
///
/// On graceful shutdown no run starts, and one under way is let finish: a group snapshot's
/// thaw and post-scripts are never cut short by a restart of the coordinator.
public struct Scheduler: Service {
    public var jobs: [ScheduledJob]
    public var store: HistoryStore
    public var clock: any SchedulerClock
    /// A run found late by at most this much still starts (`MissedRuns`).
    public var catchUpWithin: Duration = .seconds(3600)
    /// One line per thing worth telling an operator: a run's start and end, missed runs, errors.
    public var log: @Sendable (String) -> Void
    /// How often this coordinator says it is alive and looks for runs a silent one left.
    public var heartbeatInterval: Duration = .seconds(5)
    /// A coordinator silent this long is taken for dead.
    public var staleAfter: Duration = .seconds(20)

    public init(
        jobs: [ScheduledJob], store: HistoryStore, clock: any SchedulerClock = WallSchedulerClock(),
        log: @escaping @Sendable (String) -> Void
    ) {
        self.jobs = jobs
        self.store = store
        self.clock = clock
        self.log = log
    }

    public func run(shutdown: GracefulShutdown) async throws {
        // The heartbeat goes on until the last run has finished, past the shutdown's start: a
        // coordinator finishing a run is not one for the others to take over.
        let jobsDone = GracefulShutdown()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await watch(until: jobsDone) }
            group.addTask {
                defer { jobsDone.trigger() }
                try await withThrowingDiscardingTaskGroup { followers in
                    for job in jobs { followers.addTask { try await follow(job, shutdown: shutdown) } }
                }
                // Nothing (more) to run is no reason to end: the dashboard and /metrics go on serving.
                await shutdown.wait()
            }
        }
    }

    /// One job's loop: wait for its next planned time, deal with every planned time since the
    /// last one dealt with, run.
    private func follow(_ job: ScheduledJob, shutdown: GracefulShutdown) async throws {
        // A job new to the store starts with its next planned time, not with its past.
        var cursor = (try? await store.lastPlanned(job.name)) ?? clock.now()
        var busyUntil: Date?
        while !shutdown.isTriggered {
            guard let next = job.schedule.next(after: cursor) else {
                log("\(job.name): \(job.schedule) plans no further run")
                return
            }
            if next > clock.now() {
                do {
                    try await shutdown.cancelling { try await clock.sleep(until: next) }
                } catch {
                    if shutdown.isTriggered { return }
                    throw error
                }
            }
            let due = MissedRuns(job.schedule, lastPlanned: cursor, now: clock.now(), catchUpWithin: catchUpWithin)
            if due.count > 0, let first = due.first, let last = due.last {
                let overlapped = busyUntil.map { first < $0 } ?? false
                await recordNotRun(job, first: first, last: last, count: due.count, overlapped: overlapped)
                cursor = last
            }
            guard let plannedAt = due.catchUp else { continue }
            cursor = plannedAt
            if shutdown.isTriggered { return }
            await runOnce(job, plannedAt: plannedAt)
            busyUntil = clock.now()
        }
    }

    /// Heartbeats, and takes over what silent coordinators left, until `done`.
    private func watch(until done: GracefulShutdown) async {
        while !done.isTriggered {
            do {
                try await store.heartbeat(at: Date())
            } catch {
                log("cannot record this coordinator's heartbeat: \(error)")
            }
            await takeOverAbandonedRuns()
            try? await done.cancelling { try await Task.sleep(for: heartbeatInterval) }
        }
        try? await store.retireHeartbeat()
    }

    private func takeOverAbandonedRuns() async {
        let abandoned: [ScheduledRun]
        do {
            abandoned = try await store.interruptAbandonedRuns(staleAfter: staleAfter)
        } catch {
            log("cannot check for interrupted runs: \(error)")
            return
        }
        for run in abandoned {
            log("\(run.job): the run planned for \(Self.stamp(run.plannedAt)) was interrupted: \(run.note)")
            if let takeOver = jobs.first(where: { $0.name == run.job })?.takeOver {
                log("\(run.job): \(await takeOver(run))")
            }
        }
    }

    private func runOnce(_ job: ScheduledJob, plannedAt: Date) async {
        let startedAt = clock.now()
        do {
            guard try await store.claim(job.name, plannedAt: plannedAt, startedAt: startedAt) else {
                log("\(job.name): the run planned for \(Self.stamp(plannedAt)) is another coordinator's")
                return
            }
        } catch {
            log("\(job.name): not run, cannot claim the run planned for \(Self.stamp(plannedAt)): \(error)")
            do {
                try await store.patiently { () async throws(HistoryError) in
                    try await store.settleLostClaim(
                        job.name, plannedAt: plannedAt, note: "not run: the history store did not confirm its claim")
                }
            } catch {
                log("\(job.name): cannot record the run planned for \(Self.stamp(plannedAt)) as not run: \(error)")
            }
            return
        }
        let late = startedAt.timeIntervalSince(plannedAt)
        log("\(job.name): started the run planned for \(Self.stamp(plannedAt)) (\(Self.seconds(late)) late)")
        let noteSession: @Sendable (String) async -> Void = { [store, log] session in
            do {
                try await store.noteSession(job.name, plannedAt: plannedAt, session: session)
            } catch {
                log(
                    "\(job.name): cannot note session \(session) of the run planned for \(Self.stamp(plannedAt)): "
                        + "\(error); if this coordinator dies, the agents' leases release the group")
            }
        }
        let outcome = await job.work(ScheduledJob.Run(plannedAt: plannedAt, noteSession: noteSession))
        log("\(job.name): \(outcome.succeeded ? "succeeded" : "FAILED"): \(outcome.summary)")
        do {
            try await store.patiently { () async throws(HistoryError) in
                try await store.finishScheduled(
                    job.name, plannedAt: plannedAt, state: outcome.succeeded ? .succeeded : .failed,
                    runId: outcome.runId, note: outcome.summary)
            }
        } catch {
            log("\(job.name): cannot record the outcome of the run planned for \(Self.stamp(plannedAt)): \(error)")
        }
    }

    private func recordNotRun(_ job: ScheduledJob, first: Date, last: Date, count: Int, overlapped: Bool) async {
        let span = count == 1 ? Self.stamp(first) : "\(count) runs from \(Self.stamp(first)) to \(Self.stamp(last))"
        let note =
            overlapped
            ? "\(span) skipped: the previous run was still going, and runs never overlap"
            : "\(span) missed: no coordinator was running then, and a run more than "
                + "\(Int(catchUpWithin / .seconds(60))) minutes late does not start"
        log("\(job.name): \(note)")
        do {
            try await store.recordNotRun(
                ScheduledRun(
                    job: job.name, plannedAt: last, state: overlapped ? .skipped : .missed,
                    owner: ScheduledRun.thisProcess,
                    note: note))
        } catch {
            log("\(job.name): cannot record that \(note): \(error)")
        }
    }

    static func stamp(_ date: Date) -> String { HistoryRun.timestamp(date) }

    static func seconds(_ interval: TimeInterval) -> String { String(format: "%.3f s", interval) }
}
