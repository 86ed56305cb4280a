/// Where the history lives: SQLite in the state directory (`SQLiteHistoryDatabase`, the
/// embedded default) or a PostgreSQL database that coordinators on several hosts share
/// (`PostgresHistoryDatabase`). `HistoryStore` writes its SQL once, with `?` placeholders and
/// syntax both accept (`ON CONFLICT`, `RETURNING`); each database creates its own schema.
public protocol HistoryDatabase: Sendable {
    /// What to name in a message: the file, or the server and database (never a password).
    var location: String { get }
    /// What to do when it cannot be reached or written.
    var remedy: String { get }

    func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]

    /// Runs `statements` in one transaction, all or none; returns what each returned.
    @discardableResult
    func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]]

    /// Gives the space of deleted rows back, where the database does not do it by itself.
    func compact() async throws

    /// Ends its connections; nothing may use it afterwards.
    func close() async
}
