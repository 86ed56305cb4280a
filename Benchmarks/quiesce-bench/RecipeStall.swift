import Foundation
import QuiesceDemo
import QuiesceSystem

// recipe-stall: what a snapshot with each database recipe costs the application, seen from a
// writer's side, and how long a copy takes to come back. For MariaDB and PostgreSQL in turn: a
// private server on a loop-mounted ext4 image, one client streaming single-row INSERTs that the
// server stamps as it executes them, and `quiesce-agent run-once` with the recipe, freezing the
// disk while a snapshot command copies the image. The stall is the longest gap between two
// consecutive rows around the cycle; the baseline is the longest gap in as long a window without
// a cycle, measured in the same run. Recovery is the time a fresh server on the copy takes to
// answer. Run from the repository's root (it reads deploy/recipes), as root.

/// A database the measurement runs against.
private protocol StalledDatabase {
    var name: String { get }
    /// The recipe's script under deploy/recipes.
    var recipe: String { get }
    /// A client streaming INSERTs into `stamps` until killed.
    var writer: [String] { get }
    func prepare(in work: String) throws
    func recipeParams(_ phase: String) -> [String]
    func lastId() throws -> Int
    /// The longest gap between consecutive rows after `from` up to `to`, in milliseconds.
    func longestGap(after from: Int, upTo to: Int) throws -> Double
    /// Starts a server on the mounted copy `data` and stops it once it answered; returns the time
    /// it took to answer, in milliseconds.
    func recover(copy data: String, runDirectory: String) throws -> Double
    func stop()
}

private final class MariaDBSubject: StalledDatabase {
    let name = "mariadb"
    let recipe = "mariadb/mariadb-quiesce.sh"
    let server: MariaDBServer
    let data: String
    private var work = ""

    init(data: String, run: String) throws {
        self.data = data
        server = try MariaDBServer(dataDirectory: data, runDirectory: run)
    }

    var writer: [String] {
        [
            "sh", "-c",
            "yes 'INSERT INTO app.stamps (at) VALUES (SYSDATE(6));' | mariadb --no-defaults --socket=\(server.socket) "
                + "-u root",
        ]
    }

    func prepare(in work: String) throws {
        self.work = work
        try server.sql(
            "CREATE DATABASE app; CREATE TABLE app.stamps (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                + "at DATETIME(6) NOT NULL) ENGINE=InnoDB; CREATE USER quiesce@localhost IDENTIFIED BY 'bench-secret'; "
                + "GRANT RELOAD, SUPER ON *.* TO quiesce@localhost;")
        try server.writeDefaultsFile(at: "\(work)/mariadb.cnf", user: "quiesce", password: "bench-secret")
    }

    func recipeParams(_ phase: String) -> [String] {
        [phase, "--defaults-file", "\(work)/mariadb.cnf", "--state-dir", "\(work)/recipe-state"]
    }

    func lastId() throws -> Int {
        Int(try server.sql("SELECT COALESCE(MAX(id), 0) FROM app.stamps").filter(\.isNumber)) ?? 0
    }

    func longestGap(after from: Int, upTo to: Int) throws -> Double {
        let value = try server.sql(
            "SELECT COALESCE(MAX(TIMESTAMPDIFF(MICROSECOND, previous, at)), 0) / 1000 FROM (SELECT at, LAG(at) OVER "
                + "(ORDER BY id) AS previous FROM app.stamps WHERE id > \(from) AND id <= \(to)) AS gaps")
        return Double(value.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func recover(copy data: String, runDirectory: String) throws -> Double {
        let started = ContinuousClock.now
        let restored = try MariaDBServer(
            dataDirectory: data + "/" + (self.data as NSString).lastPathComponent, runDirectory: runDirectory,
            existing: true)
        let took = (ContinuousClock.now - started) / .milliseconds(1)
        restored.stop()
        return took
    }

    func stop() { server.stop() }
}

private final class PostgreSQLSubject: StalledDatabase {
    let name = "postgresql"
    let recipe = "postgresql/postgresql-quiesce.sh"
    let cluster: PostgreSQLCluster

    init(data: String, run: String) throws {
        cluster = try PostgreSQLCluster(dataDirectory: data, runDirectory: run)
    }

    var writer: [String] {
        let psql = "psql -h \(cluster.runDirectory) -d postgres -q"
        let client = PostgreSQLCluster.owner.map { "runuser -u \($0) -- \(psql)" } ?? psql
        return ["sh", "-c", "yes 'INSERT INTO stamps (at) VALUES (clock_timestamp());' | \(client)"]
    }

    func prepare(in work: String) throws {
        try cluster.sql("CREATE TABLE stamps (id bigserial PRIMARY KEY, at timestamptz NOT NULL)")
    }

    func recipeParams(_ phase: String) -> [String] {
        phase == "pre" ? ["pre", "--conninfo", cluster.conninfo, "--os-user", PostgreSQLCluster.owner ?? ""] : [phase]
    }

    func lastId() throws -> Int {
        Int(try cluster.sql("SELECT COALESCE(max(id), 0) FROM stamps").filter(\.isNumber)) ?? 0
    }

    func longestGap(after from: Int, upTo to: Int) throws -> Double {
        Double(
            try cluster.sql(
                "SELECT COALESCE(max(extract(epoch FROM at - previous)) * 1000, 0) FROM (SELECT at, lag(at) OVER "
                    + "(ORDER BY id) AS previous FROM stamps WHERE id > \(from) AND id <= \(to)) AS gaps"
            ).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func recover(copy data: String, runDirectory: String) throws -> Double {
        let directory = data + "/" + (cluster.dataDirectory as NSString).lastPathComponent
        // The copied lock file names the running original.
        try? FileManager.default.removeItem(atPath: "\(directory)/postmaster.pid")
        let started = ContinuousClock.now
        let restored = try PostgreSQLCluster(dataDirectory: directory, runDirectory: runDirectory, existing: true)
        let took = (ContinuousClock.now - started) / .milliseconds(1)
        restored.stop()
        return took
    }

    func stop() { cluster.stop() }
}

func recipeStall(runs: Int) {
    guard geteuid() == 0 else { fail("recipe-stall needs root (it loop-mounts and freezes ext4 images)") }
    guard FileManager.default.fileExists(atPath: "deploy/recipes") else {
        fail("run recipe-stall from the repository's root: it reads deploy/recipes")
    }
    let agent = agentExecutable()
    print(
        "recipe-stall: \(runs) snapshots per database (run-once with its recipe; a 256 MiB ext4 image frozen "
            + "and copied)")
    for name in ["mariadb", "postgresql"] {
        // Thrown rather than exited on: the image, its mounts and the server are undone first.
        do {
            try measure(name, runs: runs, agent: agent)
        } catch {
            fail("\(name): \(error)")
        }
    }
}

/// Why a measurement stopped.
private struct StallFailure: Error, CustomStringConvertible {
    var description: String
}

/// Sets up `name` on a fresh image, measures, prints, and removes everything it made.
private func measure(_ name: String, runs: Int, agent: String) throws {
    let work = try DemoShell.run(["mktemp", "-d", "/tmp/quiesce-bench.XXXXXX"]).trimmingCharacters(
        in: .whitespacesAndNewlines)
    chmod(work, 0o711)
    let image = "\(work)/disk.img"
    let mount = "\(work)/disk"
    let restored = "\(work)/restored"
    defer {
        quietly(["umount", restored])
        quietly(["fsfreeze", "-u", mount])
        quietly(["umount", mount])
        try? FileManager.default.removeItem(atPath: work)
    }
    try DemoShell.run(["truncate", "-s", "256M", image])
    try DemoShell.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image])
    for directory in [mount, restored] {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
    }
    try DemoShell.run(["mount", "-o", "loop", image, mount])
    let database: any StalledDatabase =
        name == "mariadb"
        ? try MariaDBSubject(data: "\(mount)/data", run: "\(work)/run")
        : try PostgreSQLSubject(data: "\(mount)/pgdata", run: "\(work)/run")
    defer { database.stop() }
    try database.prepare(in: work)

    let copy = "\(work)/copy.img"
    let script = "\(work)/recipe.sh"
    try DemoShell.run(["install", "-m", "0700", "deploy/recipes/\(database.recipe)", script])
    try DemoShell.write(
        "\(work)/snapshot.sh", "#!/bin/sh\ncp --sparse=always \(image) \(copy) && echo copy\n", mode: 0o700)
    func json(_ strings: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(strings), as: UTF8.self)
    }
    try DemoShell.write(
        "\(work)/config.json",
        #"{"preScriptLocation": "\#(script)", "postScriptLocation": "\#(script)", "#
            + #""preScriptParams": \#(try json(database.recipeParams("pre"))), "#
            + #""postScriptParams": \#(try json(database.recipeParams("post"))), "timeoutInSeconds": 120, "#
            + #""continueBackupOnFailure": false, "fsFreezeEnabled": true}"#, mode: 0o600)
    try DemoShell.write(
        "\(work)/agent.json",
        #"{"pluginConfigPath": "\#(work)/config.json", "pluginHostPath": "\#(work)/absent.conf", "#
            + #""stateDirectory": "\#(work)/state", "freeze": {"mounts": ["\#(mount)"], "timeoutSeconds": 60}, "#
            + #""snapshot": {"provider": "command", "command": ["\#(work)/snapshot.sh"], "timeoutSeconds": 60}}"#,
        mode: 0o600)
    let writer = try ChildProcess.start(["setsid"] + database.writer)
    defer {
        kill(-writer.pid, SIGKILL)
        _ = writer.wait()
    }
    usleep(1_000_000)
    var baseline: [Double] = []
    var stall: [Double] = []
    var preScript: [Double] = []
    var frozen: [Double] = []
    var snapshot: [Double] = []
    var recovery: [Double] = []
    for _ in 0..<runs {
        let start = try database.lastId()
        let began = ContinuousClock.now
        usleep(500_000)
        let output = try DemoShell.run([agent, "run-once", "--settings", "\(work)/agent.json", "--json"])
        usleep(500_000)
        let window = ContinuousClock.now - began
        let end = try database.lastId()
        guard let report = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            report["consistency"] as? String == "applicationConsistent",
            let frozenMs = (report["freeze"] as? [String: Any])?["frozenMs"] as? Double,
            let snapshotMs = (report["snapshot"] as? [String: Any])?["durationMs"] as? Double,
            let preMs = (report["preScript"] as? [String: Any])?["durationMs"] as? Double
        else { throw StallFailure(description: "the cycle did not reach application consistency: \(output)") }
        stall.append(try database.longestGap(after: start, upTo: end))
        frozen.append(frozenMs)
        snapshot.append(snapshotMs)
        preScript.append(preMs)

        let quiet = try database.lastId()
        usleep(UInt32(window / .microseconds(1)))
        baseline.append(try database.longestGap(after: quiet, upTo: try database.lastId()))

        try DemoShell.run(["mount", "-o", "loop", copy, restored])
        defer { quietly(["umount", restored]) }
        recovery.append(try database.recover(copy: restored, runDirectory: "\(work)/restored-run"))
    }
    let ratio = median(stall) / max(median(baseline), 0.001)
    print("\(database.name)")
    print("  baseline  writer's longest pause without a snapshot   median \(format(median(baseline)))")
    print(
        "  snapshot  writer's longest pause around the cycle      median \(format(median(stall)))  "
            + String(format: "(%.0fx; min %@, max %@)", ratio, format(stall.min()!), format(stall.max()!)))
    print(
        "  cycle     pre-script median \(format(median(preScript))), frozen median \(format(median(frozen))), "
            + "of which the snapshot command (copying the image) median \(format(median(snapshot)))")
    print("  restore   a fresh server on the copy answered after   median \(format(median(recovery)))")
}
