import Foundation
import GRDB

/// The embedded history: `history.sqlite` in the state directory, through GRDB, which also
/// carries its schema from one version to the next (`migrator`).
public final class SQLiteHistoryDatabase: HistoryDatabase {
    public let path: String
    private let queue: DatabaseQueue

    public var location: String { path }
    public var remedy: String { "pass --state DIR with a writable directory" }

    /// Opens (creating if needed) `history.sqlite` in `directory`, made 0700, the database 0600:
    /// reports name hosts and paths and hold the scripts' output. `migration`: stop after this
    /// one, for tests of the ones after it.
    public init(directory: String, migratingUpTo migration: String? = nil) throws(HistoryError) {
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
            queue = try DatabaseQueue(path: path, configuration: configuration)
            if let migration {
                try Self.migrator.migrate(queue, upTo: migration)
            } else {
                try Self.migrator.migrate(queue)
            }
        } catch {
            throw HistoryError(
                message:
                    "cannot open the history database \(path): \(error); pass --state DIR with a writable directory")
        }
    }

    public func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await queue.read { db in
            var dates = DateValues()
            return try Self.rows(of: db.cachedStatement(sql: sql), Self.arguments(binds, &dates))
        }
    }

    @discardableResult
    public func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await queue.write { db in
            var dates = DateValues()
            return try statements.map { statement in
                var returned: [SQLRow] = []
                for (sql, binds) in statement.batches {
                    let prepared = try db.cachedStatement(sql: sql)
                    if prepared.columnCount == 0 {
                        try prepared.execute(arguments: Self.arguments(binds, &dates))
                    } else {
                        returned += try Self.rows(of: prepared, Self.arguments(binds, &dates))
                    }
                }
                return returned
            }
        }
    }

    public func compact() async throws { try await queue.vacuum() }

    public func close() async {}

    /// A date as GRDB writes it (`yyyy-MM-dd HH:mm:ss.SSS`, UTC).
    static func date(fromText text: String) -> Date? { Date.fromDatabaseValue(text.databaseValue) }

    /// Dates as GRDB stores them, each formatted once per call: GRDB formats through ICU, and a
    /// run's rows share one time (a 10,000-VM sweep wrote the same `finishedAt` 10,000 times).
    private typealias DateValues = [Date: DatabaseValue]

    /// `DatabaseValue`s straight, not boxed as `DatabaseValueConvertible` one by one.
    private static func arguments(_ binds: [SQLValue], _ dates: inout DateValues) -> StatementArguments {
        StatementArguments(
            binds.map { value -> DatabaseValue in
                switch value {
                case .null: .null
                case .integer(let integer): integer.databaseValue
                case .real(let real): real.databaseValue
                case .text(let text): text.databaseValue
                case .date(let date): databaseValue(of: date, &dates)
                }
            })
    }

    private static func databaseValue(of date: Date, _ dates: inout DateValues) -> DatabaseValue {
        if let known = dates[date] { return known }
        let formatted = date.databaseValue
        dates[date] = formatted
        return formatted
    }

    /// The rows `statement` returns, read straight from SQLite's cursor into values that share
    /// one set of column names.
    private static func rows(of statement: Statement, _ arguments: StatementArguments) throws -> [SQLRow] {
        let columns = SQLRow.Columns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: arguments)
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(
                SQLRow(
                    columns,
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .null: .null
                        case .int64(let integer): .integer(integer)
                        case .double(let real): .real(real)
                        case .string(let text): .text(text)
                        case .blob(let data): .text(String(decoding: data, as: UTF8.self))
                        }
                    }))
        }
        return rows
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
        migrator.registerMigration("v6: each run's coordinator by host") { db in
            // `host:pid`: a run's process can be judged alive only on its own host.
            try db.alter(table: "run") { table in table.add(column: "owner", .text) }
        }
        return migrator
    }
}
