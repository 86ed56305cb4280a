import Foundation
import Glibc
import QuiesceDemo
import QuiesceHistoryPostgres
import QuiesceSystem
import Synchronization
import Testing

/// A private PostgreSQL for `--store` tests: its own cluster in a temp dir, listening on a free
/// loopback port, with a `quiesce` role that logs in by password and owns database `history`.
/// `stop()` shuts it down and removes it.
///
/// Tests of the store share one (`.sharedHistoryPostgres` on their suite), each on a database
/// of its own (`newDatabase()`): a cluster per test would run initdb a dozen times at once.
public final class HistoryPostgres: Sendable {
    public let directory: TemporaryDirectory
    private let cluster: Mutex<PostgreSQLCluster>
    public let port: Int
    public static let password = "history-secret"
    private let databases = Atomic<Int>(0)

    /// The server a suite with `.sharedHistoryPostgres` shares among its tests.
    @TaskLocal public static var shared: HistoryPostgres?

    /// Whether Debian's PostgreSQL 15 server is installed (`scripts/setup.sh` installs it).
    public static var isInstalled: Bool { PostgreSQLCluster.isInstalled }

    /// Makes and starts the cluster off Swift's cooperative pool: initdb takes seconds, and
    /// blocking the pool's few threads for that long starves every other test's tasks.
    public static func start() async throws -> HistoryPostgres {
        try await onBlockingThread { try HistoryPostgres() }
    }

    private init() throws {
        directory = try TemporaryDirectory(prefix: "quiesce-history-pg")
        // The postgres user must reach its directories under the root-owned temp dir.
        chmod(directory.path, 0o711)
        do {
            port = try FreePorts.one()
            let server = try Self.cluster(in: directory, port: port, existing: false)
            cluster = Mutex(server)
            try server.createOwnedDatabase("history", role: "quiesce", password: Self.password)
        } catch {
            directory.remove()
            throw error
        }
    }

    public var server: PostgreSQLCluster { cluster.withLock { $0 } }

    private static func cluster(in directory: TemporaryDirectory, port: Int, existing: Bool) throws -> PostgreSQLCluster
    {
        try PostgreSQLCluster(
            dataDirectory: directory.url("data"), runDirectory: directory.url("run"), existing: existing,
            settings: ["fsync=off", "max_connections=100"], port: port)
    }

    /// Stops the server for `downtime`, then starts it again on its data and port: a database
    /// that is away for a while.
    public func restart(after downtime: Duration) async throws {
        try await onBlockingThread { [self] in
            server.stop()
            CurrentProcess.sleep(for: downtime)
            let restarted = try Self.cluster(in: directory, port: port, existing: true)
            cluster.withLock { $0 = restarted }
        }
    }

    /// What `--store` takes for `database`, password in it.
    public func url(database: String = "history") -> String {
        "postgresql://quiesce:\(Self.password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    public var url: String { url() }

    /// A new, empty database for one test; its `--store` URL.
    public func newDatabase() async throws -> String {
        let name = "history_\(databases.add(1, ordering: .relaxed).newValue)"
        try await onBlockingThread { [server] in
            try server.createOwnedDatabase(name, role: "quiesce", password: Self.password)
        }
        return url(database: name)
    }

    /// The history at `url`, as a coordinator opens it. The test suite keeps Swift's few pool
    /// threads busy with blocking work, and opening takes a dozen awaits: it gets two minutes,
    /// not a coordinator's 15 s.
    public static func open(_ url: String) async throws -> PostgresHistoryDatabase {
        try await PostgresHistoryDatabase(try PostgresStoreURL(url), timeout: .seconds(120))
    }

    public func stop() {
        server.stop()
        directory.remove()
    }
}

/// Starts one `HistoryPostgres` around a whole suite (its nested suites included) and stops it
/// after, as `HistoryPostgres.shared`. Without PostgreSQL installed the suite runs without one,
/// and the tests that need it say so.
public struct SharedHistoryPostgres: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard HistoryPostgres.isInstalled || Privilege.isCI else { return try await function() }
        let server = try await HistoryPostgres.start()
        defer { server.stop() }
        try await HistoryPostgres.$shared.withValue(server) { try await function() }
    }
}

extension Trait where Self == SharedHistoryPostgres {
    public static var sharedHistoryPostgres: Self { SharedHistoryPostgres() }
}
