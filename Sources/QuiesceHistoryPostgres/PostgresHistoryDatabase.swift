import Foundation
import Logging
import NIOPosix
import NIOSSL
import PostgresNIO
import QuiesceCoordinator
import Synchronization

/// The history in a PostgreSQL database that coordinators on several hosts share: the runs, the
/// schedule's claims (one row per planned run, so one coordinator runs it), the heartbeats by
/// which a live coordinator takes over from a dead one, and the events. Through postgres-nio's
/// connection pool; the schema is created by the first coordinator to connect (`PostgresSchema`).
public final class PostgresHistoryDatabase: HistoryDatabase {
    public let url: PostgresStoreURL
    private let configuration: PostgresClient.Configuration
    /// The connection pool and the task running it; replaced when an operation gets no answer.
    private let pool: Mutex<Pool>
    /// The history's own event loop: a busy or blocked loop of the HTTP server's (or, in tests,
    /// of anything else in the process) never delays a claim or a heartbeat.
    private let loop: MultiThreadedEventLoopGroup
    /// The longest a statement or transaction may take, waiting for a connection included.
    private let operationTimeout: Duration

    public var location: String { url.description }
    public var remedy: String {
        "check that PostgreSQL answers at \(url.description) and that role \(url.user) may create tables there "
            + "(password from the URL or $PGPASSWORD)"
    }

    /// Connects, and brings the schema up to date; fails within `timeout` when the server does
    /// not answer, naming it.
    public init(
        _ url: PostgresStoreURL, timeout: Duration = .seconds(15), operationTimeout: Duration = .seconds(30)
    ) async throws(HistoryError) {
        self.url = url
        self.operationTimeout = operationTimeout
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
        self.configuration = configuration
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loop = loop
        pool = Mutex(Pool(configuration, on: loop))
        do {
            // The schema through a connection of its own, before the pool: a wrong password or
            // database comes back at once in the server's words, where the pool would retry.
            try await Self.within(timeout) {
                let connection = try await PostgresConnection.connect(
                    on: loop.any(), configuration: try Self.connectionConfiguration(url, timeout: timeout), id: 0,
                    logger: silentLogger)
                do {
                    try await PostgresSchema.migrate(connection)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try await connection.close()
            }
        } catch {
            await close()
            throw HistoryError(message: "cannot open the history at \(location): \(Self.describe(error)); \(remedy)")
        }
    }

    public func rows(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await answered { client in try await Self.rows(of: client.query(try PostgresSQL.query(sql, binds))) }
    }

    @discardableResult
    public func transaction(_ statements: [SQLStatement]) async throws -> [[SQLRow]] {
        try await answered { client in try await Self.transaction(statements, on: client) }
    }

    /// `operation` on the pool within `operationTimeout`. A pool that gave no answer in that
    /// time is replaced: postgres-nio's can stay stuck on requests made while the server was
    /// away, after it is back, and the next operation must not meet the same fate.
    private func answered<T: Sendable>(_ operation: @escaping @Sendable (PostgresClient) async throws -> T)
        async throws -> T
    {
        let client = pool.withLock { $0.client }
        do {
            return try await Self.within(operationTimeout) { try await operation(client) }
        } catch let error as NoAnswer {
            let stuck = pool.withLock { pool in
                guard pool.client === client else { return nil as Pool? }
                defer { pool = Pool(configuration, on: loop) }
                return pool
            }
            stuck?.running.cancel()
            throw PostgresFailure(description: "\(error)")
        } catch {
            throw PostgresFailure(description: Self.describe(error))
        }
    }

    private static func transaction(_ statements: [SQLStatement], on client: PostgresClient) async throws
        -> [[SQLRow]]
    {
        try await client.withTransaction(logger: silentLogger) { connection in
            var returned: [[SQLRow]] = []
            for statement in statements {
                var rows: [SQLRow] = []
                for query in try PostgresSQL.queries(statement) {
                    rows += try await Self.rows(of: connection.query(query, logger: silentLogger))
                }
                returned.append(rows)
            }
            return returned
        }
    }

    /// PostgreSQL's autovacuum gives space back by itself.
    public func compact() async throws {}

    public func close() async {
        let running = pool.withLock { $0.running }
        running.cancel()
        _ = await running.value
        try? await loop.shutdownGracefully()
    }

    private static func rows(of sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        var columns: SQLRow.Columns?
        for try await row in sequence {
            let shared = columns ?? SQLRow.Columns(row.map(\.columnName))
            columns = shared
            rows.append(SQLRow(shared, try row.map { cell in try value(of: cell) }))
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

    /// `body`, or an error after `limit`, whichever comes first: a server that is gone may not
    /// answer at all, and a caller (a heartbeat, a page) must not wait for it for ever. `body` is
    /// cancelled then, but not waited for: a call that ignores cancellation is left to finish.
    private static func within<T: Sendable>(
        _ limit: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let answer = FirstAnswer()
        return try await withCheckedThrowingContinuation { continuation in
            let work = Task {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body())
                } catch {
                    result = .failure(error)
                }
                if answer.claim() { continuation.resume(with: result) }
            }
            Task {
                try? await Task.sleep(for: limit)
                guard answer.claim() else { return }
                work.cancel()
                continuation.resume(throwing: NoAnswer(limit: limit))
            }
        }
    }
}

/// What postgres-nio's calls take as their logger: silent, since its errors come back thrown.
let silentLogger = Logger(label: "quiesce.history") { _ in SwiftLogNoOpLogHandler() }

/// A connection pool of postgres-nio and the task that runs it.
private struct Pool: Sendable {
    let client: PostgresClient
    let running: Task<Void, Never>

    init(_ configuration: PostgresClient.Configuration, on loop: MultiThreadedEventLoopGroup) {
        let client = PostgresClient(
            configuration: configuration, eventLoopGroup: loop,
            backgroundLogger: silentLogger)
        self.client = client
        running = Task { await client.run() }
    }
}

/// An operation, or connecting, took longer than it may.
private struct NoAnswer: Error, CustomStringConvertible {
    var limit: Duration
    var description: String { "no answer within \(limit)" }
}

/// Which of an operation and its timer answers: the first to claim it.
private final class FirstAnswer: Sendable {
    private let taken = Atomic<Bool>(false)

    func claim() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}

/// What PostgreSQL or the connection to it said; `HistoryStore` names the database and the remedy.
struct PostgresFailure: Error, CustomStringConvertible {
    var description: String
}
