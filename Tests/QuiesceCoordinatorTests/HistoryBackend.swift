import Foundation
import QuiesceCoordinator
import QuiesceHistoryPostgres
import QuiesceTestSupport
import Testing

/// The store's tests, each on SQLite and on PostgreSQL, around one private PostgreSQL server.
@Suite(.sharedHistoryPostgres) enum HistoryOnEachDatabase {}

/// The two databases a history lives in; store tests run on each.
enum HistoryBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    /// Runs `body` with a new, empty store of this kind, removed afterwards.
    func withStore(_ body: (HistoryStore) async throws -> Void) async throws {
        try await withStores(1) { try await body($0[0]) }
    }

    /// Runs `body` with `count` stores open on one new, empty database, as coordinators sharing
    /// it have. PostgreSQL is a database of its own on the suite's private server on loopback
    /// (`.sharedHistoryPostgres`); without one installed the case is skipped with the reason
    /// (in CI it is always installed).
    func withStores(_ count: Int, _ body: ([HistoryStore]) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory(prefix: "quiesce-history")
            defer { directory.remove() }
            try await body((0..<count).map { _ in try HistoryStore(directory: directory.path) })
        case .postgresql:
            guard let server = HistoryPostgres.shared else {
                print("skipping the PostgreSQL case: needs Debian's postgresql-15 (scripts/setup.sh)")
                return
            }
            let url = try await server.newDatabase()
            var databases: [PostgresHistoryDatabase] = []
            do {
                for _ in 0..<count { databases.append(try await HistoryPostgres.open(url)) }
                try await body(databases.map { HistoryStore(database: $0) })
            } catch {
                for database in databases { await database.close() }
                throw error
            }
            for database in databases { await database.close() }
        }
    }
}
