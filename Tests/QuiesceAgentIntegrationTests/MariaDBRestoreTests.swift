import Foundation
import QuiesceAPI
import QuiesceDemo
import QuiesceTestSupport
import Testing

/// A MariaDB under a steady transfer load, its disk frozen under the recipe's read lock and
/// copied, by `run-once` and by a group snapshot: a fresh server on the copy starts, recovers, and
/// the copy keeps the workload's invariant (the total of all balances) with every table checked
/// sound.
@Suite(
    .enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)),
    .enabled(if: MariaDBServer.isInstalled || Privilege.isCI, "needs Debian's mariadb-server (scripts/setup.sh)"))
struct MariaDBRestoreTests {
    static let accounts = 100
    static let opening = 1000

    @Test(arguments: CycleRoute.allCases)
    func aCopyTakenUnderTheReadLockStartsAndKeepsTheTotal(route: CycleRoute) async throws {
        // Set-up, stops, starts and clean-ups block for seconds: off Swift's cooperative pool.
        try await withCleanups { cleanups in
            let disk = try await onBlockingThread { try LoopImage(sizeMiB: 192, name: "db") }
            cleanups.add { disk.remove() }
            let database = try await RecipeDatabase.start(dataDirectory: "\(disk.mountPoint)/data")
            cleanups.add { database.remove() }
            try database.server.sql(
                "CREATE TABLE app.accounts (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=InnoDB; "
                    + "INSERT INTO app.accounts SELECT seq, \(Self.opening) FROM app.seq_1_to_\(Self.accounts);")
            let load = try TransferLoad(server: database.server, accounts: Self.accounts)
            cleanups.add { load.stop() }
            #expect(await eventually(within: 10) { (try? load.committed()) ?? 0 > 50 }, "the load runs")

            let copy = database.directory.url("copy.img")
            try database.directory.write(
                "snapshot.sh", "#!/bin/sh\ncp --sparse=always \(disk.imagePath) \(copy) && echo copy-1\n", mode: 0o700)
            let report = try await database.runOnce(
                snapshotCommand: database.directory.url("snapshot.sh"), freezing: [disk.mountPoint], via: route)
            #expect(report["status"] as? String == "succeeded", "\(report)")
            #expect(report["consistency"] as? String == "applicationConsistent")
            let before = try load.committed()
            #expect(
                await eventually(within: 10) { (try? load.committed()) ?? 0 > before + 20 }, "the load goes on after")
            load.stop()
            let original = database.server
            try await onBlockingThread { original.stop() }

            let directory = database.directory
            let restored = try await onBlockingThread { try RestoredCopy(image: copy, in: directory) }
            cleanups.add { restored.remove() }
            let started = Date()
            let server = try await onBlockingThread {
                try MariaDBServer(
                    dataDirectory: "\(restored.mountPoint)/data", runDirectory: restored.runDirectory, existing: true)
            }
            cleanups.add { server.stop() }
            print("mariadb restore: the server on the copy answered after \(Date().timeIntervalSince(started)) s")
            #expect(
                try server.sql("SELECT COUNT(*), SUM(balance) FROM app.accounts")
                    == "\(Self.accounts)\t\(Self.accounts * Self.opening)\n")
            #expect(try server.sql("CHECK TABLE app.accounts, app.events").contains("\tstatus\tOK\n"))
            #expect(!(try server.sql("CHECK TABLE app.accounts, app.events")).contains("\terror\t"))
        }
    }
}

/// Transfers between accounts, each in its own transaction, streamed through one client until
/// stopped: every committed state has the same total.
final class TransferLoad: Sendable {
    private let command: BackgroundCommand
    private let server: MariaDBServer

    init(server: MariaDBServer, accounts: Int) throws {
        self.server = server
        try server.sql("CREATE TABLE app.transfers (id INT AUTO_INCREMENT PRIMARY KEY) ENGINE=InnoDB")
        command = try BackgroundCommand([
            "bash", "-c",
            """
            while :; do
              from=$((RANDOM % \(accounts) + 1)); to=$((RANDOM % \(accounts) + 1)); amount=$((RANDOM % 50))
              echo "START TRANSACTION; UPDATE app.accounts SET balance = balance - $amount WHERE id = $from;
                UPDATE app.accounts SET balance = balance + $amount WHERE id = $to;
                INSERT INTO app.transfers () VALUES (); COMMIT;"
            done | mariadb --no-defaults --socket=\(server.socket) -u root
            """,
        ])
    }

    /// Transfers committed so far.
    func committed() throws -> Int {
        Int(try server.sql("SELECT count(*) FROM app.transfers").trimmingWhitespace()) ?? 0
    }

    func stop() { command.stop() }
}

/// A copied disk image, loop-mounted read-write (a database recovers by writing) under a temp dir.
struct RestoredCopy: Sendable {
    let mountPoint: String
    let runDirectory: String

    init(image: String, in directory: TemporaryDirectory) throws {
        mountPoint = directory.url("restored")
        runDirectory = directory.url("restored-run")
        for path in [mountPoint, runDirectory] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        // A copy taken while frozen is a clean file system: nothing for the journal to replay.
        try Shell.run(["e2fsck", "-fn", image])
        try Shell.run(["mount", "-o", "loop", image, mountPoint])
    }

    func remove() {
        _ = try? Shell.run(["umount", mountPoint])
    }
}
