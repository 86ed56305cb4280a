import Foundation
import QuiesceSystem

/// A private PostgreSQL cluster, never the system's service: its own data directory (and, if
/// given, a WAL directory elsewhere), a unix socket in `runDirectory`, and no network unless
/// given a loopback `port` (where roles log in by password). As root it
/// runs as the `postgres` user (PostgreSQL refuses root); otherwise as whoever we are.
/// `stop()` shuts it down.
public final class PostgreSQLCluster: Sendable {
    public let dataDirectory: String
    public let runDirectory: String
    /// Its port: of the loopback listener, if any, and of the socket's name.
    public let port: Int
    /// The server's main process, from its lock file: stopped by pid, since its data directory
    /// may be gone from the namespace (a disk lazily unmounted by an interrupted demo).
    private let postmaster: pid_t

    public static let binaries = "/usr/lib/postgresql/15/bin"

    /// Whether Debian's PostgreSQL 15 server is installed (`scripts/setup.sh` installs it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "\(binaries)/pg_ctl") }

    /// The account the server runs as: `postgres` as root, else our own.
    public static var owner: String? { CurrentProcess.effectiveUserID == 0 ? "postgres" : nil }

    /// Makes the directories (given to `postgres` as root) and a new cluster there unless
    /// `existing` (a copy, which the server recovers as after a crash), then starts it. Returns
    /// once the server answers; throws with the server's log when it does not start.
    public init(
        dataDirectory: String, walDirectory: String? = nil, runDirectory: String, existing: Bool = false,
        settings: [String] = [], port: Int? = nil
    ) throws {
        self.dataDirectory = dataDirectory
        self.runDirectory = runDirectory
        self.port = port ?? 5432
        try Self.makeOwnedDirectory(runDirectory)
        if !existing {
            for directory in [dataDirectory] + (walDirectory.map { [$0] } ?? []) {
                try Self.makeOwnedDirectory(directory)
            }
            try Self.run(
                [
                    "\(Self.binaries)/initdb", "-D", dataDirectory, "--auth-local=peer", "--auth-host=scram-sha-256",
                    "--no-instructions",
                ]
                    + (walDirectory.map { ["--waldir", $0] } ?? []))
        }
        let options =
            ([
                "-k \(runDirectory)", "-p \(self.port)", "-c listen_addresses='\(port == nil ? "" : "127.0.0.1")'",
                "-c shared_buffers=16MB",
            ]
            + settings.map {
                "-c \($0)"
            }).joined(separator: " ")
        do {
            try Self.run([
                "\(Self.binaries)/pg_ctl", "start", "-w", "-t", "120", "-D", dataDirectory, "-l",
                "\(runDirectory)/server.log", "-o", options,
            ])
        } catch {
            let log = (try? FileReader.text("\(runDirectory)/server.log")) ?? ""
            throw DemoShell.Failure(description: "PostgreSQL did not start on \(dataDirectory): \(error)\n\(log)")
        }
        let lockFile = (try? FileReader.text("\(dataDirectory)/postmaster.pid")) ?? ""
        guard let pid = lockFile.split(separator: "\n").first.flatMap({ pid_t($0) }) else {
            throw DemoShell.Failure(description: "PostgreSQL started on \(dataDirectory) but left no postmaster.pid")
        }
        postmaster = pid
    }

    /// Runs `statements` through psql; returns the rows, `|`-separated, one per line.
    @discardableResult
    public func sql(_ statements: String) throws -> String {
        try Self.run([
            "psql", "-h", runDirectory, "-p", "\(port)", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-At", "-c",
            statements,
        ])
    }

    /// A role that logs in (on the loopback port) with `password`, and a new database it owns:
    /// what a coordinator's `--store` needs.
    public func createOwnedDatabase(_ database: String, role: String, password: String) throws {
        if try sql("SELECT 1 FROM pg_roles WHERE rolname = '\(role)'").isEmpty {
            try sql("CREATE ROLE \(role) LOGIN CREATEDB PASSWORD '\(password)'")
        }
        try sql("CREATE DATABASE \(database) OWNER \(role)")
    }

    /// The libpq connection string a client on this machine uses.
    public var conninfo: String { "host=\(runDirectory) port=\(port) dbname=postgres" }

    /// A fast shutdown (SIGINT, as `pg_ctl stop -m fast` sends): clients are disconnected, the
    /// server checkpoints and exits. Waits up to 60 s, then SIGKILL.
    public func stop() {
        guard kill(postmaster, SIGINT) == 0 else { return }
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while Self.runs(postmaster) {
            guard ContinuousClock.now < deadline else {
                kill(postmaster, SIGKILL)
                return
            }
            CurrentProcess.sleep(for: .milliseconds(50))
        }
    }

    /// True while `pid` runs: not gone, and not a zombie waiting for init to reap it.
    private static func runs(_ pid: pid_t) -> Bool {
        guard let stat = try? FileReader.text("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else {
            return false
        }
        return stat[stat.index(after: close)...].dropFirst().first != "Z"
    }

    /// `command` run as the cluster's owner, from `/` (whose home `postgres` may not read).
    @discardableResult
    public static func run(_ command: [String]) throws -> String {
        guard let owner else { return try DemoShell.run(["env", "-C", "/"] + command) }
        return try DemoShell.run(["runuser", "-u", owner, "--", "env", "-C", "/"] + command)
    }

    /// A directory the cluster's owner can use (mode 0700, as PostgreSQL demands of its data).
    private static func makeOwnedDirectory(_ path: String) throws {
        try Directory.make(path, mode: 0o700)
        if let owner { try DemoShell.run(["chown", "\(owner):\(owner)", path]) }
    }
}
