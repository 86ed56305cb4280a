import Foundation
import Logging
import NIOPosix
import NIOSSL
import PostgresNIO
import QuiesceCoordinator

/// The history in a PostgreSQL database that coordinators on several hosts share: the runs, the
/// schedule's claims (one row per planned run, so one coordinator runs it), the heartbeats by
/// which a live coordinator takes over from a dead one, and the events. Through postgres-nio's
/// connection pool; the schema is created by the first coordinator to connect (`PostgresSchema`).
public final class PostgresHistoryDatabase: HistoryDatabase {
    public let url: PostgresStoreURL
    private let client: PostgresClient
    private let running: Task<Void, Never>
    /// The history's own event loop: a busy or blocked loop of the HTTP server's (or, in tests,
    /// of anything else in the process) never delays a claim or a heartbeat.
    private let loop: MultiThreadedEventLoopGroup

    public var location: String { url.description }
    public var remedy: String {
        "check that PostgreSQL answers at \(url.description) and that role \(url.user) may create tables there "
            + "(password from the URL or $PGPASSWORD)"
    }

    /// Connects, and brings the schema up to date; fails within `timeout` when the server does
    /// not answer, naming it.
    public init(_ url: PostgresStoreURL, timeout: Duration = .seconds(15)) async throws(HistoryError) {
        self.url = url
        var configuration =
            if url.host.hasPrefix("/") {
                PostgresClient.Configuration(
                    unixSocketPath: "\(url.host)/.s.PGSQL.\(url.port)", username: url.user, password: url.password,
                    database: url.database)
            } else {
                PostgresClient.Configuration(
                    host: url.host, port: url.port, username: url.user, password: url.password,
                    database: url.database,
                    tls: Self.tls(url.tls))
            }
        configuration.options.connectTimeout = timeout
        configuration.options.maximumConnections = 8
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loop = loop
        let client = PostgresClient(configuration: configuration, eventLoopGroup: loop, backgroundLogger: Self.silent)
        self.client = client
        running = Task { await client.run() }
        do {
            // The schema through a connection of its own, before the pool: a wrong password or
            // database comes back at once in the server's words, where the pool would retry.
            try await Self.within(timeout) {
                let connection = try await PostgresConnection.connect(
                    on: loop.any(), configuration: try Self.connectionConfiguration(url, timeout: timeout), id: 0,
                    logger: Self.silent)
                do {
                    try await PostgresSchema.migrate(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try await connection.close()
            }
        } catch {
            running.cancel()
            _ = await running.value
            try? await loop.shutdownGracefully()
            throw HistoryError(message: "cannot open the history at \(location): \(Self.describe(error)); \(remedy)")
        }
    }

    public func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        do {
            return try await Self.rows(of: client.query(try PostgresSQL.query(sql, binds)))
        } catch {
            throw PostgresFailure(description: Self.describe(error))
        }
    }

    @discardableResult
    public func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        do {
            return try await client.withTransaction(logger: Self.silent) { connection in
                var returned: [[SQLRow]] = []
                for statement in statements {
                    var rows: [SQLRow] = []
                    for query in try PostgresSQL.queries(statement) {
                        rows += try await Self.rows(of: connection.query(query, logger: Self.silent))
                    }
                    returned.append(rows)
                }
                return returned
            }
        } catch {
            throw PostgresFailure(description: Self.describe(error))
        }
    }

    /// PostgreSQL's autovacuum gives space back by itself.
    public func compact() async throws {}

    public func close() async {
        running.cancel()
        _ = await running.value
        try? await loop.shutdownGracefully()
    }

    private static func rows(of sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        for try await row in sequence {
            rows.append(SQLRow(try row.map { cell in (cell.columnName, try value(of: cell)) }))
        }
        return rows
    }

    private static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8, .numeric: return .real(try cell.decode(Double.self))
        case .timestamptz, .timestamp: return .date(try cell.decode(Date.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }

    private static func tls(_ mode: PostgresStoreURL.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    private static func connectionConfiguration(
        _ url: PostgresStoreURL, timeout: Duration
    ) throws -> PostgresConnection.Configuration {
        var configuration =
            if url.host.hasPrefix("/") {
                PostgresConnection.Configuration(
                    unixSocketPath: "\(url.host)/.s.PGSQL.\(url.port)", username: url.user, password: url.password,
                    database: url.database)
            } else {
                PostgresConnection.Configuration(
                    host: url.host, port: url.port, username: url.user, password: url.password,
                    database: url.database,
                    tls: try {
                        switch url.tls {
                        case .disable: .disable
                        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
                        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                        }
                    }())
            }
        configuration.options.connectTimeout = .seconds(Int64(timeout / .seconds(1)))
        return configuration
    }

    /// postgres-nio keeps a server's words out of its errors' descriptions (they may hold data);
    /// an operator needs them.
    static func describe(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError
        {
            return describe(inner)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            let hint = error.serverInfo?[.hint].map { " (\($0))" } ?? ""
            return "\(message)\(hint)"
        }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return "\(error.code)"
    }

    private static let silent = Logger(label: "quiesce.history") { _ in SwiftLogNoOpLogHandler() }

    /// `body`, or an error after `limit`: a server that is down may not answer at all.
    private static func within<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw PostgresFailure(description: "no answer within \(limit)")
            }
            return value
        }
    }
}

/// What PostgreSQL or the connection to it said; `HistoryStore` names the database and the remedy.
struct PostgresFailure: Error, CustomStringConvertible {
    var description: String
}
