import Foundation
import GRDB
import QuiesceAPI
import QuiesceSystem

/// Every push, sweep and group snapshot, with each VM's result, in an embedded SQLite database
/// under the state directory, so "what did last night's sweep say about db-3" has an answer.
/// It also keeps what was last pushed to each VM, which a sweep compares with what is on disk.
public final class HistoryStore: Sendable {
    public let path: String
    private let database: DatabaseQueue

    /// Opens (creating if needed) `history.sqlite` in `directory`, made 0700, the database 0600:
    /// reports name hosts and paths and hold the scripts' output.
    public convenience init(directory: String) throws(HistoryError) {
        try self.init(directory: directory, migratingUpTo: nil)
    }

    /// `migration`: stop after this one, for tests of the ones after it.
    init(directory: String, migratingUpTo migration: String?) throws(HistoryError) {
        path = directory + "/history.sqlite"
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Private from the first byte: SQLite would create it with the umask's mode.
            if !FileManager.default.fileExists(atPath: path) {
                _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
            }
            var configuration = Configuration()
            // Two coordinators at once wait for each other instead of failing.
            configuration.busyMode = .timeout(10)
            database = try DatabaseQueue(path: path, configuration: configuration)
            if let migration {
                try Self.migrator.migrate(database, upTo: migration)
            } else {
                try Self.migrator.migrate(database)
            }
        } catch {
            throw HistoryError(
                message:
                    "cannot open the history database \(path): \(error); pass --state DIR with a writable directory")
        }
    }

    /// Records a run that has started; `finish` completes it. A run never finished by a live
    /// process reads as interrupted.
    public func start(kind: HistoryRun.Kind, fleet: String, targets: Int) throws(HistoryError) -> Int64 {
        let run = HistoryRun(
            kind: kind, startedAt: Date(), status: .running, fleet: fleet, targets: targets, summary: "running",
            processId: Int64(CurrentProcess.id))
        return try write { db in try run.inserted(db).id ?? 0 }
    }

    /// Completes run `id` with its report, its facts and one row per VM (each also the VM's
    /// latest of the kind); for pushes, also remembers the hashes each VM now has.
    public func finish(
        _ id: Int64, status: HistoryRun.Status, summary: String, report: some Encodable, vms: [HistoryVMResult],
        facts: RunFacts = RunFacts(), pushed: [PushedFile] = []
    ) throws(HistoryError) {
        let json: String
        do {
            json = String(decoding: try QuiesceJSON.encoder().encode(report), as: UTF8.self)
        } catch {
            throw HistoryError(message: "cannot encode the report of run \(id): \(error)")
        }
        try write { db in
            let now = Date()
            try db.execute(
                sql: """
                    UPDATE run SET status = ?, summary = ?, finishedAt = ?, report = ?,
                    groupName = ?, consistency = ?, freezeSkewMs = ?, frozenMs = ? WHERE id = ?
                    """,
                arguments: [
                    status.rawValue, summary, now, json, facts.group, facts.consistency?.rawValue, facts.freezeSkewMs,
                    facts.frozenMs, id,
                ])
            let kind = try String.fetchOne(db, sql: "SELECT kind FROM run WHERE id = ?", arguments: [id]) ?? ""
            // One prepared statement per table rather than a record's save (a select, then an
            // update or insert): a push to 10,000 VMs records 30,000 files.
            let insertVM = try db.cachedStatement(
                sql: "INSERT INTO runVM (runId, vm, status, detail, consistency) VALUES (?, ?, ?, ?, ?)")
            let upsertLatest = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO vmLatest (vm, kind, runId, finishedAt, status, detail, consistency)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
            for result in vms {
                try insertVM.execute(arguments: [id, result.vm, result.status, result.detail, result.consistency])
                try upsertLatest.execute(arguments: [
                    result.vm, kind, id, now, result.status, result.detail, result.consistency,
                ])
            }
            let upsertFile = try db.cachedStatement(
                sql: """
                    INSERT INTO pushedFile (vm, role, sha256, runId, pushedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (vm, role) DO UPDATE SET
                    sha256 = excluded.sha256, runId = excluded.runId, pushedAt = excluded.pushedAt
                    """)
            for file in pushed {
                try upsertFile.execute(arguments: [file.vm, file.role, file.sha256, id, file.pushedAt])
            }
        }
    }

    /// The newest runs first, optionally only those of `kind`, touching `vm`, of `group` or
    /// ending with `status`; without `reports`, their reports are left unread (pages list runs
    /// of 1,000 VMs, whose reports are large).
    public func runs(
        kind: HistoryRun.Kind? = nil, vm: String? = nil, group: String? = nil, status: HistoryRun.Status? = nil,
        limit: Int = 20, reports: Bool = true
    ) throws(HistoryError) -> [HistoryRun] {
        try read { db in
            var request = HistoryRun.order(Column("id").desc).limit(limit)
            if !reports { request = request.select(HistoryRun.columnsButReport) }
            if let kind { request = request.filter(Column("kind") == kind.rawValue) }
            if let group { request = request.filter(Column("groupName") == group) }
            if let status { request = request.filter(Column("status") == status.rawValue) }
            if let vm {
                request = request.filter(sql: "id IN (SELECT runId FROM runVM WHERE vm = ?)", arguments: [vm])
            }
            return try request.fetchAll(db).map(\.resolvingInterruption)
        }
    }

    public func run(_ id: Int64) throws(HistoryError) -> HistoryRun? {
        try read { db in try HistoryRun.fetchOne(db, key: id)?.resolvingInterruption }
    }

    /// Deletes the runs that started before `date`, with their per-VM rows; what was last pushed
    /// to each VM stays, since sweeps compare against it. Returns how many runs went.
    @discardableResult
    public func prune(startedBefore date: Date) throws(HistoryError) -> Int {
        let deleted = try write { db in
            try db.execute(
                sql: "DELETE FROM runVM WHERE runId IN (SELECT id FROM run WHERE startedAt < ?)", arguments: [date])
            try db.execute(sql: "DELETE FROM run WHERE startedAt < ?", arguments: [date])
            return db.changesCount
        }
        // Give the space back to the file system; VACUUM cannot run inside a transaction.
        do {
            try database.writeWithoutTransaction { try $0.execute(sql: "VACUUM") }
        } catch {
            throw HistoryError(message: "deleted \(deleted) runs, but cannot compact \(path): \(error)")
        }
        return deleted
    }

    /// Attributes run `id` to another process: a coordinator that hands a run over, and tests
    /// standing in for one that died.
    public func markProcess(of id: Int64, as processId: Int64) throws(HistoryError) {
        try write { db in try db.execute(sql: "UPDATE run SET processId = ? WHERE id = ?", arguments: [processId, id]) }
    }

    /// Run `id`'s per-VM rows, optionally only `vm`'s.
    public func results(of id: Int64, vm: String? = nil) throws(HistoryError) -> [HistoryVMResult] {
        try read { db in
            var request = HistoryVMResult.filter(Column("runId") == id).order(Column("vm"))
            if let vm { request = request.filter(Column("vm") == vm) }
            return try request.fetchAll(db)
        }
    }

    /// `vm`'s result in each of `runs` that reached it.
    public func results(of runs: [Int64], vm: String) throws(HistoryError) -> [Int64: HistoryVMResult] {
        try read { db in
            let results = try HistoryVMResult.filter(Column("vm") == vm).filter(runs.contains(Column("runId")))
                .fetchAll(db)
            return Dictionary(results.map { ($0.runId, $0) }) { first, _ in first }
        }
    }

    /// Each VM's (or only `vm`'s) result in the newest run of `kind` that reached it.
    public func latestResults(kind: HistoryRun.Kind, vm: String? = nil) throws(HistoryError) -> [String: LatestVMResult]
    {
        try read { db in
            var request = LatestVMResult.filter(Column("kind") == kind.rawValue)
            if let vm { request = request.filter(Column("vm") == vm) }
            let rows = try request.fetchAll(db)
            return Dictionary(rows.map { ($0.vm, $0) }) { first, _ in first }
        }
    }

    /// What was last pushed to each of `vms`: role to file.
    public func lastPushed(to vms: [String]) throws(HistoryError) -> [String: [String: PushedFile]] {
        try read { db in
            let files = try PushedFile.filter(vms.contains(Column("vm"))).fetchAll(db)
            return Dictionary(grouping: files, by: \.vm).mapValues {
                Dictionary(uniqueKeysWithValues: $0.map { ($0.role, $0) })
            }
        }
    }

    @discardableResult
    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(HistoryError) -> T {
        do {
            return try database.write(body)
        } catch {
            throw HistoryError(message: "cannot write the history database \(path): \(error)")
        }
    }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws(HistoryError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw HistoryError(message: "cannot read the history database \(path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("kind", .text).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("finishedAt", .datetime)
                table.column("status", .text).notNull()
                table.column("fleet", .text).notNull()
                table.column("targets", .integer).notNull()
                table.column("summary", .text).notNull()
                table.column("processId", .integer).notNull()
                table.column("report", .text)
            }
            try db.create(table: "runVM") { table in
                table.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                table.column("vm", .text).notNull()
                table.column("status", .text).notNull()
                table.column("detail", .text).notNull()
                table.primaryKey(["runId", "vm"])
            }
            try db.create(index: "runVMByVM", on: "runVM", columns: ["vm", "runId"])
            try db.create(table: "pushedFile") { table in
                table.column("vm", .text).notNull()
                table.column("role", .text).notNull()
                table.column("sha256", .text).notNull()
                table.column("runId", .integer).notNull()
                table.column("pushedAt", .datetime).notNull()
                table.primaryKey(["vm", "role"])
            }
        }
        migrator.registerMigration("v2: scheduled runs") { db in
            try db.create(table: "scheduledRun") { table in
                table.column("job", .text).notNull()
                table.column("plannedAt", .datetime).notNull()
                table.column("state", .text).notNull()
                table.column("owner", .text).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("runId", .integer)
                table.column("note", .text).notNull()
                // A planned run is one row: whoever inserts it first has claimed it.
                table.primaryKey(["job", "plannedAt"])
            }
        }
        migrator.registerMigration("v3: events and their deliveries") { db in
            try db.create(table: "event") { table in
                table.column("id", .text).primaryKey()
                table.column("time", .datetime).notNull()
                table.column("kind", .text).notNull()
                table.column("body", .text).notNull()
            }
            try db.create(table: "delivery") { table in
                table.column("eventId", .text).notNull().references("event", onDelete: .cascade)
                table.column("webhook", .text).notNull()
                table.column("state", .text).notNull()
                table.column("attempts", .integer).notNull()
                table.column("nextAttemptAt", .datetime).notNull()
                table.column("lastStatus", .integer)
                table.column("lastError", .text)
                table.primaryKey(["eventId", "webhook"])
            }
            try db.create(index: "deliveryDue", on: "delivery", columns: ["state", "nextAttemptAt"])
        }
        migrator.registerMigration("v4: run facts and each VM's latest result") { db in
            try db.alter(table: "run") { table in
                table.add(column: "groupName", .text)
                table.add(column: "consistency", .text)
                table.add(column: "freezeSkewMs", .double)
                table.add(column: "frozenMs", .double)
            }
            try db.alter(table: "runVM") { table in table.add(column: "consistency", .text) }
            try db.create(index: "runByGroup", on: "run", columns: ["groupName", "kind", "id"])
            try db.create(table: "vmLatest") { table in
                table.column("vm", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("runId", .integer).notNull().references("run", onDelete: .cascade)
                table.column("finishedAt", .datetime).notNull()
                table.column("status", .text).notNull()
                table.column("detail", .text).notNull()
                table.column("consistency", .text)
                table.primaryKey(["vm", "kind"])
            }
            // The runs recorded before: their facts from the kept reports, in SQLite's own JSON.
            try db.execute(
                sql: """
                    UPDATE run SET groupName = json_extract(report, '$.group'),
                    consistency = CASE kind WHEN 'snapshot' THEN json_extract(report, '$.consistency') END,
                    freezeSkewMs = CASE kind WHEN 'snapshot' THEN json_extract(report, '$.freezeSkewMs') END,
                    frozenMs = CASE kind WHEN 'snapshot' THEN
                        (SELECT MAX(json_extract(value, '$.frozenMs')) FROM json_each(report, '$.members')) END
                    WHERE kind IN ('snapshot', 'prune') AND json_valid(report)
                    """)
            try db.execute(
                sql: """
                    INSERT INTO vmLatest (vm, kind, runId, finishedAt, status, detail)
                    SELECT runVM.vm, run.kind, run.id, COALESCE(run.finishedAt, run.startedAt), runVM.status,
                        runVM.detail
                    FROM runVM JOIN run ON run.id = runVM.runId
                    WHERE run.id = (SELECT MAX(r.id) FROM run r JOIN runVM v ON v.runId = r.id
                        WHERE v.vm = runVM.vm AND r.kind = run.kind)
                    """)
        }
        migrator.registerMigration("v5: coordinators' heartbeats and each run's group session") { db in
            try db.create(table: "coordinator") { table in
                table.column("owner", .text).primaryKey()
                table.column("heartbeatAt", .datetime).notNull()
            }
            try db.alter(table: "scheduledRun") { table in table.add(column: "session", .text) }
        }
        return migrator
    }
}

/// The history database could not be opened, read or written.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

extension HistoryStore {
    /// What a sweep should find on each of `vms`: the files last pushed to it.
    public func expectedFiles(for vms: [String]) throws(HistoryError) -> Sweep.Expected {
        try lastPushed(to: vms).mapValues { files in
            files.mapValues { file in
                Sweep.ExpectedFile(
                    sha256: file.sha256, origin: "push run \(file.runId) at \(HistoryRun.timestamp(file.pushedAt))")
            }
        }
    }
}
