import Foundation
import QuiesceAPI
import QuiesceSystem

/// Every push, sweep and group snapshot, with each VM's result, so "what did last night's sweep
/// say about db-3" has an answer; what was last pushed to each VM, which a sweep compares with
/// what is on disk; and `quiesce serve`'s schedule, claims, heartbeats and events. It lives in
/// a `HistoryDatabase`: SQLite under the state directory, or PostgreSQL shared by coordinators.
public final class HistoryStore: Sendable {
    public let database: any HistoryDatabase

    public init(database: any HistoryDatabase) {
        self.database = database
    }

    /// The embedded store: `history.sqlite` in `directory`.
    public convenience init(directory: String) throws(HistoryError) {
        self.init(database: try SQLiteHistoryDatabase(directory: directory))
    }

    /// Where the history is, for messages.
    public var location: String { database.location }

    /// Records a run that has started; `writeResults` and `complete` finish it. A run never finished by a live
    /// process reads as interrupted.
    public func start(kind: HistoryRun.Kind, fleet: String, targets: Int) async throws(HistoryError) -> Int64 {
        let rows = try await write(
            SQLStatement(
                """
                INSERT INTO run (kind, startedAt, status, fleet, targets, summary, processId, owner)
                VALUES (?, ?, 'running', ?, ?, 'running', ?, ?) RETURNING id
                """,
                [
                    .text(kind.rawValue), .date(Date()), .text(fleet), SQLValue(targets),
                    SQLValue(Int64(CurrentProcess.id)), .text(ScheduledRun.thisProcess),
                ]))
        guard let id = try rows.first?.integer("id") else {
            throw HistoryError(message: "the history \(location) gave no id for a new run")
        }
        return id
    }

    /// Writes run `id`'s row per VM (each also the VM's latest of the kind) and, for pushes, the
    /// hashes each VM now has, in a transaction of its own: a command writes them while it
    /// encodes its report. Until `complete`, the run is still running (a coordinator killed
    /// meanwhile leaves one that reads interrupted, with the results it had).
    public func writeResults(
        of id: Int64, vms: [HistoryVMResult], pushed: [PushedFile], at time: Date
    ) async throws(HistoryError) {
        guard !vms.isEmpty || !pushed.isEmpty else { return }
        guard let kind = try await read("SELECT kind FROM run WHERE id = ?", [.integer(id)]).first?.text("kind") else {
            throw HistoryError(message: "run \(id) is not in the history \(location): was it pruned meanwhile?")
        }
        var statements: [SQLStatement] = []
        // One statement per table with a row per VM: a push to 10,000 VMs records 30,000 files.
        // Each an upsert, so a write tried again after a commit whose answer was lost is the same.
        if !vms.isEmpty {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO runVM (runId, vm, status, detail, consistency) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (runId, vm) DO UPDATE SET status = excluded.status, detail = excluded.detail,
                    consistency = excluded.consistency
                    """,
                    rows: vms.map {
                        [.integer(id), .text($0.vm), .text($0.status), .text($0.detail), SQLValue($0.consistency)]
                    }))
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO vmLatest (vm, kind, runId, finishedAt, status, detail, consistency)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (vm, kind) DO UPDATE SET runId = excluded.runId, finishedAt = excluded.finishedAt,
                    status = excluded.status, detail = excluded.detail, consistency = excluded.consistency
                    """,
                    rows: vms.map {
                        [
                            .text($0.vm), .text(kind), .integer(id), .date(time), .text($0.status), .text($0.detail),
                            SQLValue($0.consistency),
                        ]
                    }))
        }
        if !pushed.isEmpty {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO pushedFile (vm, role, sha256, runId, pushedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (vm, role) DO UPDATE SET
                    sha256 = excluded.sha256, runId = excluded.runId, pushedAt = excluded.pushedAt
                    """,
                    rows: pushed.map {
                        [.text($0.vm), .text($0.role), .text($0.sha256), .integer(id), .date($0.pushedAt)]
                    }
                ))
        }
        try await transaction(statements)
    }

    /// Completes run `id`: its status, summary, facts and report (compact JSON, as `encoded` writes it).
    public func complete(
        _ id: Int64, status: HistoryRun.Status, summary: String, report: [UInt8], facts: RunFacts, at time: Date
    ) async throws(HistoryError) {
        try await transaction([
            SQLStatement(
                """
                UPDATE run SET status = ?, summary = ?, finishedAt = ?, report = ?,
                groupName = ?, consistency = ?, freezeSkewMs = ?, frozenMs = ? WHERE id = ?
                """,
                [
                    .text(status.rawValue), .text(summary), .date(time), .text(String(decoding: report, as: UTF8.self)),
                    SQLValue(facts.group), SQLValue(facts.consistency?.rawValue), SQLValue(facts.freezeSkewMs),
                    SQLValue(facts.frozenMs), .integer(id),
                ])
        ])
    }

    /// Run `id`'s report as the history keeps it: compact JSON.
    static func encoded(_ report: some Encodable, of id: Int64) -> Result<[UInt8], HistoryError> {
        Result { () throws(HistoryError) -> [UInt8] in
            do {
                return try QuiesceJSON.encode(report)
            } catch {
                throw HistoryError(message: "cannot encode the report of run \(id): \(error)")
            }
        }
    }

    /// The newest runs first, optionally only those of `kind`, touching `vm`, of `group` or
    /// ending with `status`; without `reports`, their reports are left unread (pages list runs
    /// of 1,000 VMs, whose reports are large).
    public func runs(
        kind: HistoryRun.Kind? = nil, vm: String? = nil, group: String? = nil, status: HistoryRun.Status? = nil,
        limit: Int = 20, reports: Bool = true
    ) async throws(HistoryError) -> [HistoryRun] {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        if let kind {
            conditions.append("kind = ?")
            binds.append(.text(kind.rawValue))
        }
        if let group {
            conditions.append("groupName = ?")
            binds.append(.text(group))
        }
        if let status {
            conditions.append("status = ?")
            binds.append(.text(status.rawValue))
        }
        if let vm {
            conditions.append("id IN (SELECT runId FROM runVM WHERE vm = ?)")
            binds.append(.text(vm))
        }
        let columns = HistoryRun.columns + (reports ? ", report" : "")
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let rows = try await read(
            "SELECT \(columns) FROM run \(filter) ORDER BY id DESC LIMIT ?", binds + [SQLValue(limit)])
        return try rows.map { row throws(HistoryError) in try HistoryRun(row: row).resolvingInterruption }
    }

    public func run(_ id: Int64) async throws(HistoryError) -> HistoryRun? {
        let rows = try await read("SELECT \(HistoryRun.columns), report FROM run WHERE id = ?", [.integer(id)])
        return try rows.first.map { row throws(HistoryError) in try HistoryRun(row: row).resolvingInterruption }
    }

    /// Deletes the runs that started before `date`, with their per-VM rows; what was last pushed
    /// to each VM stays, since sweeps compare against it. Returns how many runs went.
    @discardableResult
    public func prune(startedBefore date: Date) async throws(HistoryError) -> Int {
        let deleted = try await transaction([
            SQLStatement("DELETE FROM runVM WHERE runId IN (SELECT id FROM run WHERE startedAt < ?)", [.date(date)]),
            SQLStatement("DELETE FROM run WHERE startedAt < ? RETURNING id", [.date(date)]),
        ])[1].count
        do {
            try await database.compact()
        } catch {
            throw HistoryError(message: "deleted \(deleted) runs, but cannot compact \(location): \(error)")
        }
        return deleted
    }

    /// Attributes run `id` to another process: a coordinator that hands a run over, and tests
    /// standing in for one that died.
    public func markProcess(of id: Int64, as processId: Int64) async throws(HistoryError) {
        try await write(
            SQLStatement(
                "UPDATE run SET processId = ?, owner = ? WHERE id = ?",
                [.integer(processId), .text("\(CurrentProcess.hostName):\(processId)"), .integer(id)]))
    }

    /// Run `id`'s per-VM rows, optionally only `vm`'s.
    public func results(of id: Int64, vm: String? = nil) async throws(HistoryError) -> [HistoryVMResult] {
        let rows =
            if let vm {
                try await read("SELECT * FROM runVM WHERE runId = ? AND vm = ?", [.integer(id), .text(vm)])
            } else {
                try await read("SELECT * FROM runVM WHERE runId = ? ORDER BY vm", [.integer(id)])
            }
        return try rows.map { row throws(HistoryError) in try HistoryVMResult(row: row) }
    }

    /// `vm`'s result in each of `runs` that reached it.
    public func results(of runs: [Int64], vm: String) async throws(HistoryError) -> [Int64: HistoryVMResult] {
        guard !runs.isEmpty else { return [:] }
        let ids = runs.map(String.init).joined(separator: ",")
        let results = try await read("SELECT * FROM runVM WHERE vm = ? AND runId IN (\(ids))", [.text(vm)]).map {
            row throws(HistoryError) in try HistoryVMResult(row: row)
        }
        return Dictionary(results.map { ($0.runId, $0) }) { first, _ in first }
    }

    /// Each VM's (or only `vm`'s) result in the newest run of `kind` that reached it.
    public func latestResults(
        kind: HistoryRun.Kind, vm: String? = nil
    ) async throws(HistoryError) -> [String: LatestVMResult] {
        let rows =
            if let vm {
                try await read("SELECT * FROM vmLatest WHERE kind = ? AND vm = ?", [.text(kind.rawValue), .text(vm)])
            } else {
                try await read("SELECT * FROM vmLatest WHERE kind = ?", [.text(kind.rawValue)])
            }
        let results = try rows.map { row throws(HistoryError) in try LatestVMResult(row: row) }
        return Dictionary(results.map { ($0.vm, $0) }) { first, _ in first }
    }

    /// What was last pushed to each of `vms`: role to file.
    public func lastPushed(to vms: [String]) async throws(HistoryError) -> [String: [String: PushedFile]] {
        guard !vms.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: vms.count).joined(separator: ", ")
        let files = try await read("SELECT * FROM pushedFile WHERE vm IN (\(placeholders))", vms.map(SQLValue.text)).map
        {
            row throws(HistoryError) in try PushedFile(row: row)
        }
        return Dictionary(grouping: files, by: \.vm).mapValues {
            Dictionary(uniqueKeysWithValues: $0.map { ($0.role, $0) })
        }
    }

    /// Rows of `sql`, any failure named with the database and what to do.
    func read(_ sql: String, _ binds: [SQLValue]) async throws(HistoryError) -> [SQLRow] {
        do {
            return try await database.rows(sql, binds)
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError(message: "cannot read the history database \(location): \(error); \(database.remedy)")
        }
    }

    /// Runs `statements` in one transaction; what each returned.
    @discardableResult
    func transaction(_ statements: [SQLStatement]) async throws(HistoryError) -> [[SQLRow]] {
        do {
            return try await database.transaction(statements)
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError(message: "cannot write the history database \(location): \(error); \(database.remedy)")
        }
    }

    /// One statement in a transaction of its own; what it returned.
    @discardableResult
    func write(_ statement: SQLStatement) async throws(HistoryError) -> [SQLRow] {
        try await transaction([statement])[0]
    }
}

/// The history database could not be opened, read or written.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) { self.message = message }
}

extension HistoryStore {
    /// What a sweep should find on each of `vms`: the files last pushed to it.
    public func expectedFiles(for vms: [String]) async throws(HistoryError) -> Sweep.Expected {
        // A push's files share their run and time: each origin is written once.
        var origins: [Int64: (pushedAt: Date, text: String)] = [:]
        return try await lastPushed(to: vms).mapValues { files in
            files.mapValues { file in
                if let known = origins[file.runId], known.pushedAt == file.pushedAt {
                    return Sweep.ExpectedFile(sha256: file.sha256, origin: known.text)
                }
                let origin = "push run \(file.runId) at \(HistoryRun.timestamp(file.pushedAt))"
                origins[file.runId] = (file.pushedAt, origin)
                return Sweep.ExpectedFile(sha256: file.sha256, origin: origin)
            }
        }
    }
}
