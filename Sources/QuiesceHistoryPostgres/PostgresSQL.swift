import Foundation
import PostgresNIO
import QuiesceCoordinator

/// The history's SQL as PostgreSQL takes it: `?` placeholders numbered `$1, $2...`.
enum PostgresSQL {
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

    /// `statement` as queries, a batch of inserts in multi-row `VALUES` lists (`SQLStatement.batches`).
    static func queries(_ statement: SQLStatement) throws -> [PostgresQuery] {
        try statement.batches.map { try query($0.sql, $0.binds) }
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
