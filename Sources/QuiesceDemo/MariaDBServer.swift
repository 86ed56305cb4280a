import Foundation
import QuiesceSystem

/// A private MariaDB server: its own data directory, a unix socket beside it, no network, never
/// the system's service. `stop()` shuts it down.
public final class MariaDBServer: Sendable {
    public let dataDirectory: String
    public let socket: String
    private let process: ChildProcess

    /// Whether Debian's MariaDB server is installed (`scripts/setup.sh` installs it).
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/mariadbd") }

    /// Starts a server on `dataDirectory`, creating a new database there first unless `existing`
    /// (a copy of another server's files, which the server recovers as after a crash). The
    /// socket goes in `runDirectory`. Returns once the server answers.
    public init(dataDirectory: String, runDirectory: String, existing: Bool = false) throws {
        self.dataDirectory = dataDirectory
        socket = "\(runDirectory)/mariadb.sock"
        try Directory.make(runDirectory, mode: 0o700)
        if !existing {
            try DemoShell.run(
                [
                    "mariadb-install-db", "--no-defaults", "--datadir=\(dataDirectory)",
                    "--auth-root-authentication-method=socket", "--skip-test-db", "--tmpdir=\(runDirectory)",
                ] + Self.runAsRoot)
        }
        let arguments =
            [
                "/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(dataDirectory)", "--socket=\(socket)",
                "--skip-networking", "--pid-file=\(runDirectory)/mariadb.pid",
                "--log-error=\(runDirectory)/mariadb.err",
                // Its own, not /tmp: servers bootstrapped side by side there lost each other's
                // temporary tables ("Unknown table 'mysql.tmp_proxies_priv'").
                "--tmpdir=\(runDirectory)",
                // Small, so that a disk image holding it stays small.
                "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
            ] + Self.runAsRoot
        process = try ChildProcess.start(arguments)
        let deadline = Date().addingTimeInterval(60)
        while (try? sql("SELECT 1")) == nil {
            guard process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOfFile: "\(runDirectory)/mariadb.err", encoding: .utf8)) ?? ""
                stop()
                throw DemoShell.Failure(description: "mariadbd did not start on \(dataDirectory): \(log)")
            }
            usleep(50_000)
        }
    }

    /// Runs statements as root over the socket; returns the rows, tab-separated, one per line.
    @discardableResult
    public func sql(_ statements: String) throws -> String {
        try DemoShell.run([
            "mariadb", "--no-defaults", "--socket=\(socket)", "-u", "root", "--batch", "-N", "-e", statements,
        ])
    }

    /// A client options file for `user`, mode 0600: what the recipe's script reads.
    public func writeDefaultsFile(at path: String, user: String, password: String) throws {
        let text = "[client]\nuser=\(user)\npassword=\(password)\nsocket=\(socket)\n"
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Shuts the server down cleanly (SIGTERM), or kills it if it does not stop within 30 s.
    public func stop() {
        process.stop(grace: .seconds(30))
    }

    /// mariadbd refuses to run as root unless told to; as anyone else it runs as itself.
    private static var runAsRoot: [String] { geteuid() == 0 ? ["--user=root"] : [] }
}
