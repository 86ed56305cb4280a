import Foundation
import QuiesceSystem

/// What became of one run a schedule planned: the row that claims it, then its outcome. A
/// planned run has exactly one row, so two coordinators on one store never both start it.
public struct ScheduledRun: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        /// Claimed and under way.
        case running
        case succeeded
        case failed
        /// Planned while no coordinator ran, and too late to run (`MissedRuns`).
        case missed
        /// Planned while the job's previous run was still going: runs never overlap.
        case skipped
        /// Its coordinator stopped or died before it finished.
        case interrupted
    }

    /// `snapshot/<group>` or `sweep`.
    public var job: String
    public var plannedAt: Date
    public var state: State
    /// `host:pid` of the coordinator that claimed it.
    public var owner: String
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The history run it made.
    public var runId: Int64?
    /// Why it was missed, skipped or interrupted; the run's summary otherwise.
    public var note: String
    /// The group session a snapshot run opened on its members: what releases them if its
    /// coordinator dies.
    public var session: String?

    public init(
        job: String, plannedAt: Date, state: State, owner: String, startedAt: Date? = nil, finishedAt: Date? = nil,
        runId: Int64? = nil, note: String = ""
    ) {
        self.job = job
        self.plannedAt = plannedAt
        self.state = state
        self.owner = owner
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.runId = runId
        self.note = note
    }

    init(row: SQLRow) throws(HistoryError) {
        job = try row.text("job")
        plannedAt = try row.date("plannedAt")
        state = try row.enumeration("state")
        owner = try row.text("owner")
        startedAt = try row.optionalDate("startedAt")
        finishedAt = try row.optionalDate("finishedAt")
        runId = try row.optionalInteger("runId")
        note = try row.text("note")
        session = try row.optionalText("session")
    }

    /// It as a new row, which a row already there for its job and planned time wins over.
    var insertion: SQLStatement {
        SQLStatement(
            """
            INSERT INTO scheduledRun (job, plannedAt, state, owner, startedAt, finishedAt, runId, note, session)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job, plannedAt) DO NOTHING RETURNING job
            """,
            [
                .text(job), .date(plannedAt), .text(state.rawValue), .text(owner), SQLValue(startedAt),
                SQLValue(finishedAt), SQLValue(runId), .text(note), SQLValue(session),
            ])
    }

    /// How late it started after its planned minute.
    public var lateness: Duration? { startedAt.map { .seconds($0.timeIntervalSince(plannedAt)) } }

    /// This process, as an owner.
    public static var thisProcess: String { "\(CurrentProcess.hostName):\(CurrentProcess.id)" }
}

extension HistoryStore {
    /// Claims the run `job` planned at `plannedAt` for this process: false when another
    /// coordinator (or an earlier life of this one) has it already.
    public func claim(_ job: String, plannedAt: Date, startedAt: Date) async throws(HistoryError) -> Bool {
        let row = ScheduledRun(
            job: job, plannedAt: plannedAt, state: .running, owner: ScheduledRun.thisProcess, startedAt: startedAt)
        return try await write(row.insertion).count == 1
    }

    /// Settles a claim whose answer was lost: the store did not answer in time, yet may have
    /// taken it. Its row, if this process's and still `running`, becomes `failed` with `note`; no
    /// row becomes one the same way (another coordinator's row wins). Otherwise a planned run this
    /// coordinator never ran would stay `running` for as long as the coordinator lives.
    public func settleLostClaim(_ job: String, plannedAt: Date, note: String) async throws(HistoryError) {
        let now = Date()
        let failed = ScheduledRun(
            job: job, plannedAt: plannedAt, state: .failed, owner: ScheduledRun.thisProcess, startedAt: nil,
            finishedAt: now, note: note)
        try await transaction([
            SQLStatement(
                """
                UPDATE scheduledRun SET state = 'failed', finishedAt = ?, note = ?
                WHERE job = ? AND plannedAt = ? AND owner = ? AND state = 'running'
                """,
                [.date(now), .text(note), .text(job), .date(plannedAt), .text(ScheduledRun.thisProcess)]),
            failed.insertion,
        ])
    }

    /// Records the outcome of a run this coordinator claimed, unless another has meanwhile taken
    /// it for interrupted (this one fell silent too long): that verdict stands.
    public func finishScheduled(
        _ job: String, plannedAt: Date, state: ScheduledRun.State, runId: Int64?, note: String
    ) async throws(HistoryError) {
        try await write(
            SQLStatement(
                """
                UPDATE scheduledRun SET state = ?, finishedAt = ?, runId = ?, note = ?
                WHERE job = ? AND plannedAt = ? AND state = 'running'
                """,
                [.text(state.rawValue), .date(Date()), SQLValue(runId), .text(note), .text(job), .date(plannedAt)]))
    }

    /// Records a planned run that did not run (missed, skipped): one row, the first of a series
    /// with the count in its note, so a week of downtime is one line, not 10,080.
    public func recordNotRun(_ run: ScheduledRun) async throws(HistoryError) {
        try await write(run.insertion)
    }

    /// The latest planned time of `job` the store knows, whatever became of it.
    public func lastPlanned(_ job: String) async throws(HistoryError) -> Date? {
        try await read("SELECT MAX(plannedAt) AS latest FROM scheduledRun WHERE job = ?", [.text(job)]).first?
            .optionalDate("latest")
    }

    /// The newest scheduled runs first, optionally of one job only.
    public func scheduledRuns(job: String? = nil, limit: Int = 50) async throws(HistoryError) -> [ScheduledRun] {
        let rows =
            if let job {
                try await read(
                    "SELECT * FROM scheduledRun WHERE job = ? ORDER BY plannedAt DESC LIMIT ?",
                    [.text(job), SQLValue(limit)])
            } else {
                try await read("SELECT * FROM scheduledRun ORDER BY plannedAt DESC LIMIT ?", [SQLValue(limit)])
            }
        return try rows.map { row throws(HistoryError) in try ScheduledRun(row: row) }
    }

    /// Notes the group session the claimed run opened, before it calls any member.
    public func noteSession(_ job: String, plannedAt: Date, session: String) async throws(HistoryError) {
        try await write(
            SQLStatement(
                "UPDATE scheduledRun SET session = ? WHERE job = ? AND plannedAt = ?",
                [.text(session), .text(job), .date(plannedAt)]))
    }

    /// Says this coordinator is alive: coordinators sharing a store take over the runs of one
    /// whose heartbeat stops.
    public func heartbeat(at time: Date) async throws(HistoryError) {
        try await write(
            SQLStatement(
                """
                INSERT INTO coordinator (owner, heartbeatAt) VALUES (?, ?)
                ON CONFLICT (owner) DO UPDATE SET heartbeatAt = excluded.heartbeatAt
                """, [.text(ScheduledRun.thisProcess), .date(time)]))
    }

    /// Forgets this coordinator's heartbeat: it is stopping, with nothing left running.
    public func retireHeartbeat() async throws(HistoryError) {
        try await write(SQLStatement("DELETE FROM coordinator WHERE owner = ?", [.text(ScheduledRun.thisProcess)]))
    }

    /// Marks as interrupted the runs left `running` by a coordinator that is gone: a process of
    /// this host that no longer exists, or any coordinator whose heartbeat is older than
    /// `staleAfter`. Returns them. A live coordinator's runs are left alone; of two live
    /// coordinators looking at once, each run goes to one (the update is conditional on its
    /// state), as do the history runs the dead one left running.
    public func interruptAbandonedRuns(
        now: Date = Date(), staleAfter: Duration = .seconds(20)
    ) async throws(HistoryError) -> [ScheduledRun] {
        let host = CurrentProcess.hostName
        let me = ScheduledRun.thisProcess
        let running = try await read("SELECT * FROM scheduledRun WHERE state = 'running' AND owner <> ?", [.text(me)])
            .map { row throws(HistoryError) in try ScheduledRun(row: row) }
        guard !running.isEmpty else { return [] }
        var heartbeats: [String: Date] = [:]
        for row in try await read("SELECT owner, heartbeatAt FROM coordinator", []) {
            heartbeats[try row.text("owner")] = try row.date("heartbeatAt")
        }
        var abandoned: [ScheduledRun] = []
        for var run in running {
            let parts = run.owner.split(separator: ":")
            let deadHere =
                parts.count == 2 && String(parts[0]) == host
                && Int32(parts[1]).map { !CurrentProcess.isAlive(processId: $0) } == true
            let lastHeartbeat = heartbeats[run.owner]
            let silent = lastHeartbeat.map { now.timeIntervalSince($0) > staleAfter / .seconds(1) } ?? false
            guard deadHere || silent else { continue }
            run.state = .interrupted
            run.finishedAt = now
            run.note =
                deadHere
                ? "its coordinator (\(run.owner)) stopped before it finished"
                : "its coordinator (\(run.owner)) fell silent: last heartbeat "
                    + "\(lastHeartbeat.map(HistoryRun.timestamp) ?? "never"); taken over by \(me)"
            let taken = try await transaction([
                SQLStatement(
                    """
                    UPDATE scheduledRun SET state = 'interrupted', finishedAt = ?, note = ?
                    WHERE job = ? AND plannedAt = ? AND state = 'running' RETURNING job
                    """, [.date(now), .text(run.note), .text(run.job), .date(run.plannedAt)]),
                SQLStatement(
                    """
                    UPDATE run SET status = 'interrupted', finishedAt = ?, summary = ?
                    WHERE status = 'running' AND owner = ?
                    """, [.date(now), .text("interrupted: \(run.note)"), .text(run.owner)]),
            ])
            if taken[0].count == 1 { abandoned.append(run) }
        }
        return abandoned
    }
}

extension HistoryStore {
    /// How many scheduled runs each job has had, by outcome.
    public func scheduledRunCounts() async throws(HistoryError) -> [String: [ScheduledRun.State: Int]] {
        var counts: [String: [ScheduledRun.State: Int]] = [:]
        for row in try await read("SELECT job, state, COUNT(*) AS n FROM scheduledRun GROUP BY job, state", []) {
            guard let state = ScheduledRun.State(rawValue: try row.text("state")) else { continue }
            counts[try row.text("job"), default: [:]][state] = Int(try row.integer("n"))
        }
        return counts
    }
}
