import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceDemo
import QuiesceTestSupport
import Testing

/// deploy/recipes/postgresql against a private PostgreSQL 15 whose WAL lives on a file system of
/// its own, under a steady pgbench load. Frozen together and copied (by `run-once` and by a group
/// snapshot), the two disks give a cluster that starts and keeps pgbench's invariant; frozen one
/// after the other (WAL, a CHECKPOINT, then the data), they give one that cannot start.
@Suite(
    .enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)),
    .enabled(if: PostgreSQLCluster.isInstalled || Privilege.isCI, "needs Debian's postgresql-15 (scripts/setup.sh)"),
    .serialized)
struct PostgreSQLRecipeTests {
    @Test(arguments: CycleRoute.allCases)
    func disksFrozenTogetherGiveACopyThatStartsAndKeepsPgbenchsInvariant(route: CycleRoute) async throws {
        // Set-up, stops, starts and clean-ups block for seconds: off Swift's cooperative pool.
        try await withCleanups { cleanups in
            let cluster = try await onBlockingThread { try BenchCluster() }
            cleanups.add { cluster.remove() }
            let load = try cluster.startLoad()
            cleanups.add { load.stop() }
            #expect(await eventually(within: 20) { (try? cluster.transactions()) ?? 0 > 100 }, "pgbench runs")

            let dataCopy = cluster.directory.url("data-copy.img")
            let walCopy = cluster.directory.url("wal-copy.img")
            try cluster.directory.write(
                "snapshot.sh",
                "#!/bin/sh\ncp --sparse=always \(cluster.data.imagePath) \(dataCopy) && "
                    + "cp --sparse=always \(cluster.wal.imagePath) \(walCopy) && echo copy-1\n", mode: 0o700)
            let report = try await cluster.runOnce(snapshotCommand: cluster.directory.url("snapshot.sh"), via: route)
            #expect(report["status"] as? String == "succeeded", "\(report)")
            #expect(report["consistency"] as? String == "applicationConsistent")
            if route == .runOnce {
                let freeze = try #require(report["freeze"] as? [String: Any])
                #expect(Set(freeze["mounts"] as? [String] ?? []) == [cluster.data.mountPoint, cluster.wal.mountPoint])
                let pre = try #require(report["preScript"] as? [String: Any])
                #expect((pre["stdoutTail"] as? String)?.contains("checkpoint done") == true, "\(pre)")
            } else {
                let member = try #require((report["members"] as? [[String: Any]])?.first)
                #expect(member["heldThroughSnapshot"] as? Bool == true, "\(member)")
            }
            load.stop()
            let restored = try await onBlockingThread {
                cluster.server.stop()
                return try cluster.restore(dataImage: dataCopy, walImage: walCopy)
            }
            cleanups.add { restored.stop() }
            let totals = try restored.sql(
                "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers), "
                    + "(SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(delta) FROM pgbench_history), "
                    + "(SELECT count(*) FROM pgbench_history)")
            let fields = totals.trimmingWhitespace().split(separator: "|").map(String.init)
            #expect(fields.count == 5 && Set(fields.prefix(4)).count == 1, "pgbench's sums agree: \(totals)")
            #expect((Int(fields.last ?? "") ?? 0) > 100, "the copy holds the load's history: \(totals)")
        }
    }

    @Test func disksFrozenOneAfterTheOtherAcrossACheckpointGiveACopyThatCannotStart() async throws {
        try await withCleanups { cleanups in
            let cluster = try await onBlockingThread { try BenchCluster() }
            cleanups.add { cluster.remove() }
            let dataCopy = cluster.directory.url("data-copy.img")
            let walCopy = cluster.directory.url("wal-copy.img")
            let started = try await onBlockingThread {
                // Each disk frozen alone while it is copied, so each copy is a clean file system:
                // what breaks is PostgreSQL's view across the two.
                try Self.copyFrozen(cluster.wal, to: walCopy)
                try cluster.server.sql("CHECKPOINT")
                try Self.copyFrozen(cluster.data, to: dataCopy)
                cluster.server.stop()
                do {
                    try cluster.restore(dataImage: dataCopy, walImage: walCopy).stop()
                    return true
                } catch {
                    // Expected: the data copy's control file names a checkpoint the WAL copy never saw.
                    return false
                }
            }
            #expect(!started, "a cluster copied one disk after the other started")
            let log =
                (try? String(contentsOfFile: cluster.directory.url("restored-run/server.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("could not locate a valid checkpoint record"), "\(log)")
        }
    }

    @Test func aServerThatIsDownFailsThePreScriptWithPsqlsOwnWordsNotItsHint() async throws {
        var fixture = try FrameworkFixture(mounts: nil)
        defer { fixture.remove() }
        let script = try RecipeConfigTests.installScript("postgresql/postgresql-quiesce.sh", in: fixture.directory)
        fixture.config["preScriptLocation"] = script
        fixture.config["postScriptLocation"] = script
        fixture.config["preScriptParams"] = [
            "pre", "--conninfo", "host=\(fixture.directory.url("no-server")) dbname=postgres", "--os-user", "",
        ]
        fixture.config["postScriptParams"] = ["post"]
        fixture.config["fsFreezeEnabled"] = false
        try fixture.writeConfig()
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = ["/bin/true"]
        let report = try await CycleRoute.runOnce.run(fixture)
        let errors = try #require(report["errors"] as? [[String: Any]])
        let message = try #require(errors.first { $0["code"] as? String == "Pre-ScriptExecutionFailed" }?["message"])
        let text = "\(message)"
        #expect(
            text.contains("connection to server on socket") && text.contains("No such file or directory"), "\(text)")
        #expect(!text.contains("Is the server running"), "the hint is not what went wrong: \(text)")
        #expect(report["consistency"] as? String == "crashConsistent", "continueBackupOnFailure, nothing frozen")
    }

    private static func copyFrozen(_ disk: LoopImage, to copy: String) throws {
        try Shell.run(["fsfreeze", "-f", disk.mountPoint])
        defer { _ = try? Shell.run(["fsfreeze", "-u", disk.mountPoint]) }
        try Shell.run(["cp", "--sparse=always", disk.imagePath, copy])
    }
}

/// A PostgreSQL cluster with its data on one loop-mounted disk and its WAL on another, pgbench's
/// tables in it, and the recipe's script installed as the framework demands (0700).
struct BenchCluster: Sendable {
    let directory: TemporaryDirectory
    let data: LoopImage
    let wal: LoopImage
    let server: PostgreSQLCluster
    let script: String

    init() throws {
        directory = try TemporaryDirectory(prefix: "quiesce-postgresql")
        var made: [LoopImage] = []
        do {
            made.append(try LoopImage(sizeMiB: 160, name: "data"))
            made.append(try LoopImage(sizeMiB: 160, name: "wal"))
            // The postgres user must reach the mount points under the root-owned temp dirs.
            for disk in made { chmod(disk.directory.path, 0o711) }
            chmod(directory.path, 0o711)
            server = try PostgreSQLCluster(
                dataDirectory: "\(made[0].mountPoint)/pgdata", walDirectory: "\(made[1].mountPoint)/pg_wal",
                runDirectory: directory.url("run"))
            try PostgreSQLCluster.run([
                "\(PostgreSQLCluster.binaries)/pgbench", "-h", directory.url("run"), "-i", "-q", "-s", "1", "postgres",
            ])
        } catch {
            for disk in made { disk.remove() }
            directory.remove()
            throw error
        }
        data = made[0]
        wal = made[1]
        script = try RecipeConfigTests.installScript("postgresql/postgresql-quiesce.sh", in: directory)
    }

    /// pgbench with two clients until stopped.
    func startLoad() throws -> BackgroundCommand {
        try BackgroundCommand([
            "runuser", "-u", "postgres", "--", "\(PostgreSQLCluster.binaries)/pgbench", "-h", directory.url("run"),
            "-c",
            "2",
            "-T", "600", "postgres",
        ])
    }

    func transactions() throws -> Int {
        Int(try server.sql("SELECT count(*) FROM pgbench_history").trimmingWhitespace()) ?? 0
    }

    /// One snapshot (`quiesce-agent run-once` unless `route` says otherwise) with the recipe,
    /// freezing both disks; returns the JSON report.
    func runOnce(snapshotCommand: String, via route: CycleRoute = .runOnce) async throws -> [String: Any] {
        var fixture = try FrameworkFixture(mounts: [data.mountPoint, wal.mountPoint])
        defer { fixture.remove() }
        fixture.config["preScriptLocation"] = script
        fixture.config["postScriptLocation"] = script
        fixture.config["preScriptParams"] = ["pre", "--conninfo", server.conninfo]
        fixture.config["postScriptParams"] = ["post"]
        fixture.config["timeoutInSeconds"] = 120
        try fixture.writeConfig()
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [snapshotCommand]
        return try await route.run(fixture)
    }

    /// Mounts the two copies and starts a server on them as a restore does: the WAL link pointed
    /// at the WAL copy (the link in the copy names the original disk), and the copied lock file
    /// removed (it names the original server's pid, which may be alive on this host).
    func restore(dataImage: String, walImage: String) throws -> PostgreSQLCluster {
        let dataMount = directory.url("restored-data")
        let walMount = directory.url("restored-wal")
        for (image, mount) in [(dataImage, dataMount), (walImage, walMount)] {
            try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: false)
            try Shell.run(["mount", "-o", "loop", image, mount])
        }
        let link = "\(dataMount)/pgdata/pg_wal"
        try FileManager.default.removeItem(atPath: link)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "\(walMount)/pg_wal")
        try FileManager.default.removeItem(atPath: "\(dataMount)/pgdata/postmaster.pid")
        return try PostgreSQLCluster(
            dataDirectory: "\(dataMount)/pgdata", runDirectory: directory.url("restored-run"), existing: true)
    }

    func remove() {
        for mount in ["restored-data", "restored-wal"] { _ = try? Shell.run(["umount", directory.url(mount)]) }
        server.stop()
        data.remove()
        wal.remove()
        directory.remove()
    }
}
