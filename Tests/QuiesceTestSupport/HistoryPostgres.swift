import Foundation
import Glibc
import QuiesceDemo

/// A private PostgreSQL for `--store` tests: its own cluster in a temp dir, listening on a free
/// loopback port, with a `quiesce` role that logs in by password and owns database `history`.
/// `stop()` shuts it down and removes it.
public final class HistoryPostgres: Sendable {
    public let directory: TemporaryDirectory
    public let server: PostgreSQLCluster
    public static let password = "history-secret"

    /// Whether Debian's PostgreSQL 15 server is installed (`scripts/setup.sh` installs it).
    public static var isInstalled: Bool { PostgreSQLCluster.isInstalled }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "quiesce-history-pg")
        // The postgres user must reach its directories under the root-owned temp dir.
        chmod(directory.path, 0o711)
        do {
            server = try PostgreSQLCluster(
                dataDirectory: directory.url("data"), runDirectory: directory.url("run"),
                settings: ["fsync=off", "max_connections=60"], port: try FreePorts.one())
            try server.sql("CREATE ROLE quiesce LOGIN PASSWORD '\(Self.password)'")
            try server.sql("CREATE DATABASE history OWNER quiesce")
        } catch {
            directory.remove()
            throw error
        }
    }

    public var port: Int { server.port }

    /// What `--store` takes, password in it.
    public var url: String { "postgresql://quiesce:\(Self.password)@127.0.0.1:\(port)/history?sslmode=disable" }

    public func stop() {
        server.stop()
        directory.remove()
    }
}
