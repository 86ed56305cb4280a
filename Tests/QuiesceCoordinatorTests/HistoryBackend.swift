import Foundation
import QuiesceCoordinator
import QuiesceHistoryPostgres
import QuiesceTestSupport
import Testing

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
    /// it have. PostgreSQL is a private server on loopback (`HistoryPostgres`); without one
    /// installed the case is skipped with the reason, except in CI, where it must run.
    func withStores(_ count: Int, _ body: ([HistoryStore]) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory(prefix: "quiesce-history")
            defer { directory.remove() }
            try await body((0..<count).map { _ in try HistoryStore(directory: directory.path) })
        case .postgresql:
            guard HistoryPostgres.isInstalled || Privilege.isCI else {
                print("skipping the PostgreSQL case: needs Debian's postgresql-15 (scripts/setup.sh)")
                return
            }
            let server = try HistoryPostgres()
            defer { server.stop() }
            var databases: [PostgresHistoryDatabase] = []
            do {
                for _ in 0..<count {
                    databases.append(try await PostgresHistoryDatabase(try PostgresStoreURL(server.url)))
                }
                try await body(databases.map { HistoryStore(database: $0) })
            } catch {
                for database in databases { await database.close() }
                throw error
            }
            for database in databases { await database.close() }
        }
    }
}
