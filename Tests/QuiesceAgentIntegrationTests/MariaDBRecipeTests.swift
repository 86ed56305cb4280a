import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceDemo
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// deploy/recipes/mariadb against a real, private MariaDB server: the read lock is held in a
/// live session through the snapshot and ends with the post-script, a holder a crash left is
/// ended by the next pre-script, the lock ends by itself within its bound, and a refusal is
/// reported in the server's own words.
@Suite(
    .enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)),
    .enabled(if: MariaDBServer.isInstalled || Privilege.isCI, "needs Debian's mariadb-server (scripts/setup.sh)"),
    .serialized)
struct MariaDBRecipeTests {
    @Test func theReadLockHoldsThroughTheSnapshotAndEndsAtOnceWithThePostScript() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            // The snapshot command starts a writer, and tells whether it was still blocked when the
            // snapshot ended.
            let marks = database.directory.url("marks")
            try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: false)
            try database.directory.write(
                "snapshot.sh",
                """
                #!/bin/bash
                ( mariadb --no-defaults --socket=\(database.server.socket) -u root \\
                    -e "INSERT INTO app.events (what) VALUES ('during')"
                  date +%s.%N > \(marks)/writer-done ) > /dev/null 2>&1 &
                sleep 1.5
                [[ -e \(marks)/writer-done ]] || echo blocked > \(marks)/writer-blocked
                date +%s.%N > \(marks)/snapshot-end
                echo snapshot-1
                """, mode: 0o700)
            let report = try await database.runOnce(snapshotCommand: database.directory.url("snapshot.sh"))

            #expect(report["status"] as? String == "succeeded", "\(report)")
            #expect(report["consistency"] as? String == "applicationConsistent")
            let pre = try #require(report["preScript"] as? [String: Any])
            #expect((pre["stdoutTail"] as? String)?.contains("read-locked by connection") == true, "\(pre)")
            #expect((pre["stdoutTail"] as? String)?.contains("InnoDB flushed") == true, "\(pre)")
            let post = try #require(report["postScript"] as? [String: Any])
            #expect((post["stdoutTail"] as? String)?.contains("released: ended read-lock holder connection") == true)
            #expect(FileManager.default.fileExists(atPath: "\(marks)/writer-blocked"), "the INSERT waited for the lock")
            // Released by the post-script, not by the 60 s bound.
            #expect(
                await eventually(within: 10) { FileManager.default.fileExists(atPath: "\(marks)/writer-done") },
                "the INSERT went through once the post-script ended the holder's session")
            let snapshotEnd = try Double(database.directory.read("marks/snapshot-end").trimmingWhitespace()) ?? 0
            let writerDone = try Double(database.directory.read("marks/writer-done").trimmingWhitespace()) ?? 0
            #expect(writerDone > snapshotEnd, "the INSERT completed after the snapshot, not during it")
            #expect(try database.server.sql("SELECT COUNT(*) FROM app.events") == "1\n")
            #expect(try database.holders() == 0)
        }
    }

    @Test func aHolderACrashLeftIsEndedByTheNextPreScript() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            // A pre-script whose post-script never came: its holder still blocks writes.
            let options = database.options
            _ = try await onBlockingThread { try Shell.run([database.script, "pre"] + options + ["--no-flush"]) }
            #expect(try database.holders() == 1)
            #expect(await !database.insertFinishes(within: 1), "the orphaned lock blocks writes")

            let report = try await database.runOnce(snapshotCommand: "/bin/true")
            #expect(report["status"] as? String == "succeeded", "\(report)")
            let pre = try #require(report["preScript"] as? [String: Any])
            #expect(
                (pre["stdoutTail"] as? String)?.contains(
                    "left by an earlier run that never released it: ended read-lock holder connection") == true,
                "\(pre)")
            #expect(try database.holders() == 0)
            #expect(await database.insertFinishes(within: 5))
        }
    }

    @Test func withoutItsPostScriptTheLockEndsByItselfWithinItsBound() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            let options = database.options
            _ = try await onBlockingThread {
                try Shell.run([database.script, "pre"] + options + ["--no-flush", "--max-hold", "3"])
            }
            #expect(await !database.insertFinishes(within: 1), "the lock holds")
            #expect(await database.insertFinishes(within: 10), "and ends after its 3 s bound")
            #expect(try database.holders() == 0)
        }
    }

    @Test func whenTheAgentIsKilledMidSnapshotTheLockStillEnds() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            let directory = database.directory
            try directory.write(
                "config.json",
                #"{"preScriptLocation": "\#(database.script)", "postScriptLocation": "\#(database.script)", "#
                    + #""preScriptParams": \#(database.params("pre", "--no-flush")), "#
                    + #""postScriptParams": \#(database.params("post")), "fsFreezeEnabled": false}"#)
            let (server, client) = try await ServeFixture.start(directory)
            defer { AgentBinary.stop(server) }
            let prepared = try await ServeFixture.session("killed", client, through: ["prepare"])
            #expect(prepared?.status == 200)
            #expect(try database.holders() == 1)
            kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
            // The agent's sentinel ends the holder's process group; the server drops the lock when it
            // notices, well within the 300 s bound.
            #expect(await database.insertFinishes(within: 15), "the lock ended without the agent")
        }
    }

    @Test func wrongCredentialsFailThePreScriptWithTheServersOwnWords() async throws {
        let database = try await RecipeDatabase.start(password: "not-the-password")
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            let report = try await database.runOnce(snapshotCommand: "/bin/true")
            let errors = try #require(report["errors"] as? [[String: Any]])
            let preError = try #require(errors.first { $0["code"] as? String == "Pre-ScriptExecutionFailed" })
            #expect((preError["message"] as? String)?.contains("Access denied for user 'quiesce'") == true, "\(errors)")
            // continueBackupOnFailure: the snapshot is taken, and labelled for what it is (no freeze
            // in these runs, so crash consistent).
            #expect(report["consistency"] as? String == "crashConsistent")
        }
    }

    @Test func aLockThatCannotBeTakenInTimeFailsThePreScriptWithTheServersOwnWords() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            // A session keeps a table write-locked: the read lock waits behind it.
            let blocker = try BackgroundCommand([
                "mariadb", "--no-defaults", "--socket=\(database.server.socket)", "-u", "root", "-e",
                "LOCK TABLES app.events WRITE; SELECT SLEEP(120)",
            ])
            cleanups.add { blocker.stop() }
            #expect(
                await eventually(within: 10) {
                    (try? database.server.sql(
                        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(120)'"))
                        == "1\n"
                })
            let report = try await database.runOnce(
                snapshotCommand: "/bin/true", preOptions: ["--no-flush", "--lock-timeout", "2"])
            let errors = try #require(report["errors"] as? [[String: Any]])
            let preError = try #require(errors.first { $0["code"] as? String == "Pre-ScriptExecutionFailed" })
            #expect(
                (preError["message"] as? String)?.contains("Lock wait timeout exceeded") == true, "\(errors)")
            #expect(report["consistency"] as? String == "crashConsistent")
            #expect(try database.holders() == 0, "no holder is left waiting for the lock")
        }
    }

    @Test func aCredentialsFileOthersCanReadIsRefusedWithTheFix() async throws {
        let database = try await RecipeDatabase.start()
        try await withCleanups { cleanups in
            cleanups.add { database.remove() }
            chmod(database.defaultsFile, 0o644)
            let (status, output) = try Shell.status([database.script, "pre"] + database.options)
            #expect(status == 1)
            #expect(
                output.contains("has mode 644") && output.contains("chmod 600 \(database.defaultsFile)"), "\(output)")
            #expect(try database.holders() == 0)
        }
    }
}

/// A private MariaDB with an `app.events` table, an account `quiesce` with the privileges the
/// recipe documents, its credentials file, and the recipe's script installed as the framework
/// demands (0700).
struct RecipeDatabase: Sendable {
    let directory: TemporaryDirectory
    let server: MariaDBServer
    let defaultsFile: String
    let script: String
    let state: String

    /// `dataDirectory` (default: in the temp dir) is where the server keeps its files, such as on
    /// a loop-mounted disk to freeze and copy.
    init(password: String = "quiesce-secret", dataDirectory: String? = nil) throws {
        directory = try TemporaryDirectory(prefix: "quiesce-mariadb")
        let data = dataDirectory ?? directory.url("data")
        state = directory.url("recipe-state")
        defaultsFile = directory.url("mariadb.cnf")
        script = directory.url("mariadb-quiesce.sh")
        do {
            server = try MariaDBServer(dataDirectory: data, runDirectory: directory.path)
        } catch {
            directory.remove()
            throw error
        }
        try server.sql(
            """
            CREATE DATABASE app; CREATE TABLE app.events (id INT AUTO_INCREMENT PRIMARY KEY, what TEXT) ENGINE=InnoDB;
            CREATE USER quiesce@localhost IDENTIFIED BY 'quiesce-secret';
            GRANT RELOAD, SUPER ON *.* TO quiesce@localhost;
            """)
        try server.writeDefaultsFile(at: defaultsFile, user: "quiesce", password: password)
        try RecipeConfigTests.installScript("mariadb/mariadb-quiesce.sh", in: directory)
    }

    /// Made off Swift's cooperative pool: installing and starting a server blocks for seconds,
    /// which would stall every other test's timers.
    static func start(password: String = "quiesce-secret", dataDirectory: String? = nil) async throws -> RecipeDatabase
    {
        try await onBlockingThread { try RecipeDatabase(password: password, dataDirectory: dataDirectory) }
    }

    /// The options every call of the script gets here.
    var options: [String] { ["--defaults-file", defaultsFile, "--state-dir", state] }

    /// The plugin config's params for `phase`.
    func paramList(_ phase: String, _ extra: [String] = []) -> [String] {
        [phase] + options + (phase == "pre" ? ["--max-hold", "60"] : []) + extra
    }

    /// The same, as JSON.
    func params(_ phase: String, _ extra: String...) -> String {
        "[" + paramList(phase, extra).map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }

    /// One snapshot (`quiesce-agent run-once` unless `route` says otherwise) with the recipe's
    /// plugin config and `snapshotCommand`, freezing `mounts` (none: the lock alone is tested),
    /// `preOptions` added to the pre-script's params; returns the JSON report.
    func runOnce(
        snapshotCommand: String, freezing mounts: [String]? = nil, preOptions: [String] = [],
        via route: CycleRoute = .runOnce
    ) async throws -> [String: Any] {
        var fixture = try FrameworkFixture(mounts: mounts)
        defer { fixture.remove() }
        fixture.config["preScriptLocation"] = script
        fixture.config["postScriptLocation"] = script
        fixture.config["preScriptParams"] = paramList("pre", preOptions)
        fixture.config["postScriptParams"] = paramList("post")
        fixture.config["fsFreezeEnabled"] = mounts != nil
        fixture.config["continueBackupOnFailure"] = true
        fixture.config["timeoutInSeconds"] = 60
        try fixture.writeConfig()
        fixture.settings.snapshot.provider = .command
        fixture.settings.snapshot.command = [snapshotCommand]
        return try await route.run(fixture)
    }

    /// Sessions on the server holding the recipe's read lock.
    func holders() throws -> Int {
        let rows = try server.sql(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%quiesce-read-lock-holder%' "
                + "AND ID <> CONNECTION_ID()")
        return Int(rows.trimmingWhitespace()) ?? -1
    }

    /// Whether an INSERT from another client completes within `seconds`; one that does not is
    /// killed (its statement may still go through later). Waited for off the cooperative pool.
    func insertFinishes(within seconds: Double) async -> Bool {
        let socket = server.socket
        return (try? await onBlockingThread { Self.insertFinishes(socket: socket, within: seconds) }) ?? false
    }

    private static func insertFinishes(socket: String, within seconds: Double) -> Bool {
        guard
            let insert = try? ChildProcess.start([
                "mariadb", "--no-defaults", "--socket=\(socket)", "-u", "root", "-e",
                "INSERT INTO app.events (what) VALUES ('probe')",
            ])
        else { return false }
        let deadline = Date().addingTimeInterval(seconds)
        while insert.isRunning && Date() < deadline { usleep(20_000) }
        return insert.stop(grace: .zero) == .exited(0)
    }

    func remove() {
        server.stop()
        directory.remove()
    }
}

/// Every recipe's plugin config is one the agent accepts, and names a script of its own folder,
/// installed where `deploy/install.sh` puts scripts, with the phase as the first param.
struct RecipeConfigTests {
    static let recipes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/recipes")

    /// Installs a recipe's script (`"mariadb/mariadb-quiesce.sh"`) into `directory` as the
    /// framework demands (0700); returns its path.
    @discardableResult
    static func installScript(_ script: String, in directory: TemporaryDirectory) throws -> String {
        try directory.write(
            (script as NSString).lastPathComponent,
            try String(contentsOfFile: recipes.appendingPathComponent(script).path, encoding: .utf8), mode: 0o700)
    }

    @Test(arguments: (try? FileManager.default.contentsOfDirectory(atPath: recipes.path)) ?? [])
    func aRecipesPluginConfigLoadsAndNamesItsOwnScript(_ recipe: String) throws {
        let folder = Self.recipes.appendingPathComponent(recipe)
        let path = folder.appendingPathComponent("VMSnapshotScriptPluginConfig.json").path
        let loaded = try PluginConfig.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))), path: path)
        #expect(loaded.unknownKeys.isEmpty)
        let config = loaded.config
        for (location, phase, params) in [
            (config.preScriptLocation, "pre", config.preScriptParams),
            (config.postScriptLocation, "post", config.postScriptParams),
        ] {
            let name = (location as NSString).lastPathComponent
            #expect(location == "/etc/quiesce/scripts/\(name)")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), "\(name)")
            #expect(params.first == phase)
        }
    }
}
