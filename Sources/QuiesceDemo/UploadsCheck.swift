import Foundation
import QuiesceAPI
import QuiesceSystem

/// The restore check of the uploads application: a fresh PostgreSQL is started on the copy of
/// the database disk (it recovers as after a crash) and every committed row's file is looked for
/// on the copy of the files disk, with its SHA-256.
public struct UploadsCheck: Sendable, CustomStringConvertible {
    public var rows = 0
    public var files = 0
    /// Rows whose file is not in the files copy.
    public var missing: [String] = []
    /// Rows whose file is there with another hash.
    public var altered: [String] = []
    /// From starting the server on the copy until it answered: its crash recovery.
    public var recoveryMs = 0.0

    public var passed: Bool { missing.isEmpty && altered.isEmpty && rows > 0 }

    /// Restores the copies (directories, or ext4 images that are loop-mounted under `scratch`:
    /// the files copy read-only, the database copy writable for its recovery) and checks them.
    /// Everything it mounted or started is gone again when it returns.
    public static func run(filesCopy: String, databaseCopy: String, scratch: String) throws -> UploadsCheck {
        try Directory.make(scratch, mode: 0o711)
        var mounted: [String] = []
        defer { for mount in mounted.reversed() { _ = try? DemoShell.run(["umount", mount]) } }
        func open(_ copy: String, as name: String, readOnly: Bool) throws -> String {
            guard copy.hasSuffix(".img") else { return copy }
            let mount = "\(scratch)/\(name)"
            try DemoShell.makeDirectory(mount)
            try DemoShell.run(["mount", "-o", readOnly ? "loop,ro" : "loop", copy, mount])
            mounted.append(mount)
            return mount
        }
        let files = try open(filesCopy, as: "files", readOnly: true)
        let database = try open(databaseCopy, as: "db", readOnly: false)
        // The copied lock file names the original server's pid, which may be alive on this host.
        try? FileManager.default.removeItem(atPath: "\(database)/pgdata/postmaster.pid")
        let started = ContinuousClock.now
        let server = try PostgreSQLCluster(
            dataDirectory: "\(database)/pgdata", runDirectory: "\(scratch)/run", existing: true)
        defer { server.stop() }
        var check = UploadsCheck()
        check.recoveryMs = (ContinuousClock.now - started) / .milliseconds(1)
        let rows = try server.sql("SELECT name, sha256 FROM uploads ORDER BY id").split(separator: "\n")
        check.rows = rows.count
        check.files = ((try? DirectoryListing.names(in: "\(files)/uploads")) ?? []).count
        for row in rows {
            let fields = row.split(separator: "|").map(String.init)
            guard fields.count == 2 else { continue }
            guard let bytes = try? FileReader.read("\(files)/uploads/\(fields[0])") else {
                check.missing.append(fields[0])
                continue
            }
            if ContentHash.sha256(of: bytes) != fields[1] { check.altered.append(fields[0]) }
        }
        return check
    }

    public var description: String {
        let counts = "\(rows) rows committed, \(files) files stored"
        if passed { return "\(counts): every row's file is there with its SHA-256" }
        var problems: [String] = []
        if rows == 0 { problems.append("no rows at all") }
        if let first = missing.first {
            problems.append("\(missing.count) rows point at missing files (first \(first))")
        }
        if let first = altered.first {
            problems.append("\(altered.count) rows' files have another SHA-256 (first \(first))")
        }
        return "\(counts): " + problems.joined(separator: "; ")
    }
}
