import Foundation
import PostgresNIO
import QuiesceCoordinator

/// The history's SQL as PostgreSQL takes it: `?` placeholders numbered `$1, $2...`, and a batch
/// of inserts sent as multi-row `VALUES` lists instead of one round trip per row.
enum PostgresSQL {
    /// Rows per `INSERT`: well under PostgreSQL's 65,535 bindings with the widest table's seven columns.
    static let rowsPerInsert = 1000

    static func query(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .text(let text): bindings.append(text)
            case .date(let date): bindings.append(date)
            }
        }
        return PostgresQuery(unsafeSQL: numbered(sql), binds: bindings)
    }

    /// `statement` as queries: one per row, or for a batch `INSERT ... VALUES (?, ...)` one per
    /// `rowsPerInsert` rows, with the tuple repeated.
    static func queries(_ statement: SQLStatement) throws -> [PostgresQuery] {
        guard statement.rows.count > 1, let tuple = valuesTuple(statement.sql) else {
            return try statement.rows.map { try query(statement.sql, $0) }
        }
        return try stride(from: 0, to: statement.rows.count, by: rowsPerInsert).map { start in
            let chunk = statement.rows[start..<min(start + rowsPerInsert, statement.rows.count)]
            let values = Array(repeating: String(statement.sql[tuple]), count: chunk.count).joined(separator: ", ")
            let sql = statement.sql.replacingCharacters(in: tuple, with: values)
            return try query(sql, chunk.flatMap { $0 })
        }
    }

    /// Where `(?, ?, ...)` after `VALUES` is in `sql`.
    private static func valuesTuple(_ sql: String) -> Range<String.Index>? {
        guard sql.hasPrefix("INSERT"), let values = sql.range(of: "VALUES ("),
            let close = sql[values.upperBound...].firstIndex(of: ")")
        else { return nil }
        return sql.index(before: values.upperBound)..<sql.index(after: close)
    }

    /// Each `?` as `$1`, `$2`...; the history's SQL has no `?` inside a string literal.
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}
