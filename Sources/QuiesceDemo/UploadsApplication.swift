import Foundation
import QuiesceSystem

/// The demo's application, spread over two VMs as real ones are: each upload is stored as a file
/// on VM `files` (written, then fsynced with its directory), and only then is a row naming the
/// file and its SHA-256 committed to PostgreSQL on VM `db`. Its promise: every row's file exists
/// with that hash. A copy of the two disks keeps the promise only if it is one consistent cut.
///
/// The writer is its own process group (a shell loop piped into psql), so a write that blocks on
/// a frozen disk blocks it, not us.
public final class UploadsApplication: Sendable {
    public let database: PostgreSQLCluster
    /// Where the uploads are stored on the files disk.
    public let uploads: String
    private let writer: ChildProcess

    /// The table the rows go to.
    static let schema =
        "CREATE TABLE uploads (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE, sha256 text NOT NULL, "
        + "committed_at timestamptz NOT NULL DEFAULT now())"

    /// Creates a cluster in `<databaseDisk>/pgdata` (its socket in `runDirectory`) and the
    /// uploads directory on `filesDisk`, then starts writing.
    public init(filesDisk: String, databaseDisk: String, runDirectory: String) throws {
        uploads = "\(filesDisk)/uploads"
        try Directory.make(uploads, mode: 0o755)
        database = try PostgreSQLCluster(
            dataDirectory: "\(databaseDisk)/pgdata", runDirectory: runDirectory,
            settings: ["min_wal_size=32MB", "max_wal_size=64MB"])
        do {
            try database.sql(Self.schema)
            let loop = """
                i=0
                while :; do
                    i=$((i + 1)); f=$(printf 'upload-%07d.bin' $i)
                    head -c 1024 /dev/urandom > "\(uploads)/$f" && sync "\(uploads)/$f" "\(uploads)" || exit 1
                    h=$(sha256sum "\(uploads)/$f") || exit 1
                    printf "INSERT INTO uploads (name, sha256) VALUES ('%s', '%s');\\n" "$f" "${h%% *}"
                done
                """
            let psql = ["psql", "-h", runDirectory, "-d", "postgres", "-q", "-v", "ON_ERROR_STOP=1"]
            let client = (PostgreSQLCluster.owner.map { ["runuser", "-u", $0, "--"] } ?? []) + psql
            // setsid: the loop and psql form one group, stopped and paused together.
            writer = try ChildProcess.start([
                "setsid", "/bin/sh", "-c", "{ \(loop)\n} | \(client.map(Self.quoted).joined(separator: " "))",
            ])
        } catch {
            database.stop()
            throw error
        }
    }

    /// The writer's process group, for the pre-script that pauses it when nothing is frozen.
    public var processGroup: pid_t { writer.pid }

    /// How many uploads are stored as files so far (some not yet committed as rows).
    public func storedFiles() -> Int {
        ((try? DirectoryListing.names(in: uploads)) ?? []).count
    }

    /// How many rows are committed so far.
    public func committedRows() throws -> Int {
        Int(try database.sql("SELECT count(*) FROM uploads").filter(\.isNumber)) ?? 0
    }

    /// Waits until more than `count` rows are committed; false if that takes over `seconds`.
    public func waitUntilCommitted(moreThan count: Int, within seconds: Int = 30) throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))
        while try committedRows() <= count {
            guard ContinuousClock.now < deadline, writer.isRunning else { return false }
            CurrentProcess.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// Stops the writer (SIGKILL lands once its disk is thawed) and the database.
    public func stop() {
        kill(-writer.pid, SIGCONT)
        kill(-writer.pid, SIGKILL)
        _ = writer.wait()
        database.stop()
    }

    private static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
