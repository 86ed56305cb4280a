import Foundation
import Synchronization

/// A value bound to a statement or read from a row, in the few types the history uses; each
/// `HistoryDatabase` maps them to its own.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case date(Date)
}

extension SQLValue {
    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    public init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
    public init(_ value: Int) { self = .integer(Int64(value)) }
    public init(_ value: Double?) { self = value.map(SQLValue.real) ?? .null }
    public init(_ value: Date?) { self = value.map(SQLValue.date) ?? .null }
}

/// One statement of a transaction, run once per entry of `rows` (each a full set of bindings for
/// its `?` placeholders): a batch of inserts is one statement with many rows, which a database
/// may send as one. What it returns (`RETURNING`) comes back as rows.
public struct SQLStatement: Sendable {
    public var sql: String
    public var rows: [[SQLValue]]

    public init(_ sql: String, _ binds: [SQLValue] = []) {
        self.sql = sql
        rows = [binds]
    }

    /// `sql` is an `INSERT ... VALUES (?, ...)`, run for each of `rows`.
    public init(_ sql: String, rows: [[SQLValue]]) {
        self.sql = sql
        self.rows = rows
    }

    /// Rows per batched `INSERT`: well under PostgreSQL's 65,535 bindings and SQLite's 32,766
    /// with the widest table's seven columns.
    public static let rowsPerInsert = 1000

    /// The statement as SQL to run, each with its bindings: one per row, or for a batch
    /// `INSERT ... VALUES (?, ...)` one per `rowsPerInsert` rows, with the tuple repeated. A
    /// statement per row cost a 10,000-VM sweep a tenth of a second in SQLite alone, and a
    /// round trip per row in PostgreSQL.
    public var batches: [(sql: String, binds: [SQLValue])] {
        guard rows.count > 1, let tuple = valuesTuple else { return rows.map { (sql, $0) } }
        return stride(from: 0, to: rows.count, by: Self.rowsPerInsert).map { start in
            let chunk = rows[start..<min(start + Self.rowsPerInsert, rows.count)]
            let values = Array(repeating: String(sql[tuple]), count: chunk.count).joined(separator: ", ")
            return (sql.replacingCharacters(in: tuple, with: values), chunk.flatMap { $0 })
        }
    }

    /// Where `(?, ?, ...)` after `VALUES` is in `sql`.
    private var valuesTuple: Range<String.Index>? {
        guard sql.hasPrefix("INSERT"), let values = sql.range(of: "VALUES ("),
            let close = sql[values.upperBound...].firstIndex(of: ")")
        else { return nil }
        return sql.index(before: values.upperBound)..<sql.index(after: close)
    }
}

/// A row read from the history: values by column name, matched without regard to case
/// (PostgreSQL folds unquoted names to lower case, SQLite keeps them).
public struct SQLRow: Sendable {
    /// What the rows of one result share: their column names, and the times their cells hold as
    /// text, each parsed once (a push's 30,000 file rows hold one time, which a sweep reads back).
    public final class Columns: Sendable {
        /// Each name as the database gave it and in lower case.
        fileprivate let indexes: [String: Int]
        private let dates = Mutex<[String: Date]>([:])

        public init(_ names: some Sequence<String>) {
            var indexes: [String: Int] = [:]
            for (index, name) in names.enumerated() {
                if indexes[name] == nil { indexes[name] = index }
                if indexes[name.lowercased()] == nil { indexes[name.lowercased()] = index }
            }
            self.indexes = indexes
        }

        fileprivate func date(fromText text: String) -> Date? {
            if let known = dates.withLock({ $0[text] }) { return known }
            let date = SQLiteHistoryDatabase.date(fromText: text)
            if let date { dates.withLock { $0[text] = date } }
            return date
        }
    }

    private let columns: Columns
    private let values: [SQLValue]

    /// `values` in the order of `columns`.
    public init(_ columns: Columns, _ values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ column: String) -> SQLValue {
        guard let index = columns.indexes[column] ?? columns.indexes[column.lowercased()], index < values.count else {
            return .null
        }
        return values[index]
    }

    public func text(_ column: String) throws(HistoryError) -> String {
        try required(column, optionalText(column))
    }

    public func optionalText(_ column: String) throws(HistoryError) -> String? {
        switch self[column] {
        case .null: return nil
        case .text(let text): return text
        case let other: throw mismatch(column, "text", other)
        }
    }

    public func integer(_ column: String) throws(HistoryError) -> Int64 {
        try required(column, optionalInteger(column))
    }

    public func optionalInteger(_ column: String) throws(HistoryError) -> Int64? {
        switch self[column] {
        case .null: return nil
        case .integer(let integer): return integer
        case let other: throw mismatch(column, "an integer", other)
        }
    }

    public func optionalReal(_ column: String) throws(HistoryError) -> Double? {
        switch self[column] {
        case .null: return nil
        case .real(let real): return real
        case .integer(let integer): return Double(integer)
        case let other: throw mismatch(column, "a number", other)
        }
    }

    public func date(_ column: String) throws(HistoryError) -> Date {
        try required(column, optionalDate(column))
    }

    /// SQLite keeps a date as text (`SQLiteHistoryDatabase.date(fromText:)`), PostgreSQL as a timestamp.
    public func optionalDate(_ column: String) throws(HistoryError) -> Date? {
        switch self[column] {
        case .null: return nil
        case .date(let date): return date
        case .text(let text):
            guard let date = columns.date(fromText: text) else {
                throw mismatch(column, "a date", .text(text))
            }
            return date
        case let other: throw mismatch(column, "a date", other)
        }
    }

    public func enumeration<Value: RawRepresentable<String>>(_ column: String) throws(HistoryError) -> Value {
        let text = try text(column)
        guard let value = Value(rawValue: text) else { throw mismatch(column, "a \(Value.self)", .text(text)) }
        return value
    }

    private func required<Value>(_ column: String, _ value: Value?) throws(HistoryError) -> Value {
        guard let value else {
            throw HistoryError(message: "the history's column \(column) is empty where it may not be")
        }
        return value
    }

    private func mismatch(_ column: String, _ expected: String, _ found: SQLValue) -> HistoryError {
        HistoryError(
            message:
                "the history's column \(column) holds \(found), not \(expected): was it written by a newer version?")
    }
}
