import Foundation
import GRDB
import QuiesceSystem

/// What became of one run a schedule planned: the row that claims it, then its outcome. A
/// planned run has exactly one row, so two coordinators on one store never both start it.
public struct ScheduledRun: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "scheduledRun"

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

    /// How late it started after its planned minute.
    public var lateness: Duration? { startedAt.map { .seconds($0.timeIntervalSince(plannedAt)) } }

    /// This process, as an owner.
    public static var thisProcess: String { "\(CurrentProcess.hostName):\(CurrentProcess.id)" }
}

extension HistoryStore {
    /// Claims the run `job` planned at `plannedAt` for this process: false when another
    /// coordinator (or an earlier life of this one) has it already.
    public func claim(_ job: String, plannedAt: Date, startedAt: Date) throws(HistoryError) -> Bool {
        let row = ScheduledRun(
            job: job, plannedAt: plannedAt, state: .running, owner: ScheduledRun.thisProcess, startedAt: startedAt)
        return try write { db in
            try row.insert(db, onConflict: .ignore)
            return db.changesCount == 1
        }
    }

    /// Records the outcome of a run this coordinator claimed, unless another has meanwhile taken
    /// it for interrupted (this one fell silent too long): that verdict stands.
    public func finishScheduled(
        _ job: String, plannedAt: Date, state: ScheduledRun.State, runId: Int64?, note: String
    ) throws(HistoryError) {
        try write { db in
            try db.execute(
                sql: """
                    UPDATE scheduledRun SET state = ?, finishedAt = ?, runId = ?, note = ?
                    WHERE job = ? AND plannedAt = ? AND state = 'running'
                    """,
                arguments: [state.rawValue, Date(), runId, note, job, plannedAt])
        }
    }

    /// Records a planned run that did not run (missed, skipped): one row, the first of a series
    /// with the count in its note, so a week of downtime is one line, not 10,080.
    public func recordNotRun(_ run: ScheduledRun) throws(HistoryError) {
        try write { db in try run.insert(db, onConflict: .ignore) }
    }

    /// The latest planned time of `job` the store knows, whatever became of it.
    public func lastPlanned(_ job: String) throws(HistoryError) -> Date? {
        try read { db in
            try Date.fetchOne(db, sql: "SELECT MAX(plannedAt) FROM scheduledRun WHERE job = ?", arguments: [job])
        }
    }

    /// The newest scheduled runs first, optionally of one job only.
    public func scheduledRuns(job: String? = nil, limit: Int = 50) throws(HistoryError) -> [ScheduledRun] {
        try read { db in
            var request = ScheduledRun.order(Column("plannedAt").desc).limit(limit)
            if let job { request = request.filter(Column("job") == job) }
            return try request.fetchAll(db)
        }
    }

    /// Notes the group session the claimed run opened, before it calls any member.
    public func noteSession(_ job: String, plannedAt: Date, session: String) throws(HistoryError) {
        try write { db in
            try db.execute(
                sql: "UPDATE scheduledRun SET session = ? WHERE job = ? AND plannedAt = ?",
                arguments: [session, job, plannedAt])
        }
    }

    /// Says this coordinator is alive: coordinators sharing a store take over the runs of one
    /// whose heartbeat stops.
    public func heartbeat(at time: Date) throws(HistoryError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO coordinator (owner, heartbeatAt) VALUES (?, ?)",
                arguments: [ScheduledRun.thisProcess, time])
        }
    }

    /// Forgets this coordinator's heartbeat: it is stopping, with nothing left running.
    public func retireHeartbeat() throws(HistoryError) {
        try write { db in
            try db.execute(sql: "DELETE FROM coordinator WHERE owner = ?", arguments: [ScheduledRun.thisProcess])
        }
    }

    /// Marks as interrupted the runs left `running` by a coordinator that is gone: a process of
    /// this host that no longer exists, or any coordinator whose heartbeat is older than
    /// `staleAfter`. Returns them. A live coordinator's runs are left alone.
    public func interruptAbandonedRuns(now: Date = Date(), staleAfter: Duration = .seconds(20)) throws(HistoryError)
        -> [ScheduledRun]
    {
        let host = CurrentProcess.hostName
        let me = ScheduledRun.thisProcess
        return try write { db in
            let running = try ScheduledRun.filter(Column("state") == ScheduledRun.State.running.rawValue).fetchAll(db)
            let heartbeats = try Row.fetchAll(db, sql: "SELECT owner, heartbeatAt FROM coordinator").reduce(
                into: [String: Date]()
            ) { $0[$1["owner"]] = $1["heartbeatAt"] }
            var abandoned: [ScheduledRun] = []
            for var run in running where run.owner != me {
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
                try run.update(db)
                abandoned.append(run)
            }
            return abandoned
        }
    }
}

extension HistoryStore {
    /// How many scheduled runs each job has had, by outcome.
    public func scheduledRunCounts() throws(HistoryError) -> [String: [ScheduledRun.State: Int]] {
        let rows = try read { db in
            try Row.fetchAll(db, sql: "SELECT job, state, COUNT(*) AS count FROM scheduledRun GROUP BY job, state")
                .map { (job: $0["job"] as String, state: $0["state"] as String, count: $0["count"] as Int) }
        }
        var counts: [String: [ScheduledRun.State: Int]] = [:]
        for row in rows {
            guard let state = ScheduledRun.State(rawValue: row.state) else { continue }
            counts[row.job, default: [:]][state] = row.count
        }
        return counts
    }
}
