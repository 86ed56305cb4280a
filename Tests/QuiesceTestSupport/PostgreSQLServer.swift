import Foundation

/// A private PostgreSQL cluster for a test, run as the `postgres` user with `pg_ctl`: its own data
/// directory (and, if given, a WAL directory elsewhere), a unix socket in `runDirectory`, no
/// network, never the system's service. `stop()` shuts it down; register it with `Cleanups`.
public final class PostgreSQLServer: Sendable {
    public let dataDirectory: String
    public let runDirectory: String

    public static let binaries = "/usr/lib/postgresql/15/bin"

    /// Whether Debian's PostgreSQL 15 server is installed (`scripts/setup.sh` installs it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "\(binaries)/pg_ctl") }

    /// The directories are made and given to `postgres`; a new cluster is created there first
    /// unless `existing` (a copy, which the server recovers as after a crash). Returns once the
    /// server answers; throws with the server's log when it does not start.
    public init(dataDirectory: String, walDirectory: String? = nil, runDirectory: String, existing: Bool = false)
        throws
    {
        self.dataDirectory = dataDirectory
        self.runDirectory = runDirectory
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try Shell.run(["chown", "postgres:postgres", runDirectory])
        if !existing {
            for directory in [dataDirectory] + (walDirectory.map { [$0] } ?? []) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try Shell.run(["chown", "postgres:postgres", directory])
            }
            try Self.asPostgres(
                ["\(Self.binaries)/initdb", "-D", dataDirectory, "--auth-local=peer", "--no-instructions"]
                    + (walDirectory.map { ["--waldir", $0] } ?? []))
        }
        try Self.asPostgres([
            "\(Self.binaries)/pg_ctl", "start", "-w", "-t", "120", "-D", dataDirectory, "-l",
            "\(runDirectory)/server.log",
            "-o", "-k \(runDirectory) -c listen_addresses='' -c shared_buffers=16MB",
        ])
    }

    /// Runs `statements` through psql as `postgres`; returns the rows, `|`-separated, one per line.
    @discardableResult
    public func sql(_ statements: String) throws -> String {
        try Self.asPostgres([
            "psql", "-h", runDirectory, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-At", "-c", statements,
        ])
    }

    /// The libpq connection string a client on this machine uses.
    public var conninfo: String { "host=\(runDirectory) dbname=postgres" }

    public func stop() {
        _ = try? Self.asPostgres(["\(Self.binaries)/pg_ctl", "stop", "-w", "-m", "fast", "-D", dataDirectory])
    }

    /// `command` run as the `postgres` user from `/`, whose home it may not read otherwise.
    @discardableResult
    public static func asPostgres(_ command: [String]) throws -> String {
        try Shell.run(["runuser", "-u", "postgres", "--"] + command, workingDirectory: "/")
    }
}
