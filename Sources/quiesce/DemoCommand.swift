import ArgumentParser
import Foundation
import QuiesceCoordinator
import QuiesceDemo
import QuiesceSystem

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the whole story on this machine: agents, a push, a sweep, a group snapshot, the proof.",
        discussion: """
            Starts two quiesce-agent processes on loopback, files and db, each with its own disk (as root, \
            loop-mounted ext4 images that are really frozen; otherwise plain directories), and an application that \
            stores uploads as files on files and commits a row per upload with its SHA-256 to PostgreSQL on db. \
            Pushes each VM its scripts (db: the PostgreSQL recipe), sweeps, takes one group snapshot whose restore \
            verification starts PostgreSQL on the copy and finds every row's file, then snapshots the two one after \
            the other to show the rows whose files such copies lack. Cleans up everything, also when interrupted. \
            Exits 0 when the group snapshot passed its verification and the contrast showed the loss.
            """
    )

    @Option(help: "Where to write the HTML timeline.")
    var timeline = "/tmp/quiesce-demo-timeline.html"

    @Flag(help: "Print one JSON object on standard output instead of the story.")
    var json = false

    @Option(help: "The recipes directory, for the PostgreSQL recipe's script.")
    var recipes = "deploy/recipes"

    func run() async throws {
        let agentPath: String
        do {
            let own = try CurrentProcess.executablePath()
            agentPath = own[..<(own.lastIndex(of: "/") ?? own.startIndex)] + "/quiesce-agent"
        } catch {
            throw UnusableInput(description: "quiesce demo: cannot find this program's own path: \(error)")
        }
        guard PostgreSQLCluster.isInstalled else {
            throw UnusableInput(
                description: "quiesce demo: PostgreSQL 15 is not installed (\(PostgreSQLCluster.binaries)); "
                    + "scripts/demo.sh installs it")
        }
        guard FileManager.default.fileExists(atPath: "\(recipes)/postgresql/postgresql-quiesce.sh") else {
            throw UnusableInput(
                description: "quiesce demo: no \(recipes)/postgresql/postgresql-quiesce.sh; run it from the "
                    + "repository's root or give --recipes")
        }
        guard FileManager.default.isExecutableFile(atPath: agentPath) else {
            throw UnusableInput(
                description: "quiesce demo: quiesce-agent is not beside this program (\(agentPath)); build both with "
                    + "`swift build`")
        }
        let fleet: DemoFleet
        do {
            fleet = try DemoFleet()
        } catch {
            throw UnusableInput(description: "quiesce demo: \(error)")
        }
        // Handlers first: an interrupt while the disks are being made must clean up too.
        let interrupts = Self.cleanUpOnSignals(fleet)
        defer {
            fleet.stop()
            interrupts.remove()
        }
        let outcome: Demo.Outcome
        do {
            try fleet.start(
                names: Demo.vms, diskMiB: 256, agentPath: agentPath,
                verifyCommand: [
                    try CurrentProcess.executablePath(), "demo-restore-check", "--copies", fleet.copies, "--scratch",
                    "\(fleet.directory)/restore",
                ])
            let json = json
            let demo = Demo(
                agentPath: agentPath, recipes: recipes, timelinePath: timeline, style: json ? .plain : .detect()
            ) { line in
                if !json { print(line) }
            }
            outcome = try await demo.run(fleet: fleet)
        } catch {
            if fleet.isStopped { throw ExitCode(130) }
            throw UnusableInput(description: "quiesce demo: \(error)")
        }
        if fleet.isStopped { throw ExitCode(130) }
        if json {
            try printJSON(outcome)
        } else {
            print(
                outcome.succeeded
                    ? "\nThe demo succeeded; everything it started is being removed." : "\nThe demo FAILED; see above.")
        }
        if !outcome.succeeded { throw ExitCode.failure }
    }

    /// Ctrl-C or SIGTERM: stop the agents (each thaws first) and remove the disks at once; the
    /// demo then unwinds and exits 130. If it has not within 10 s, exit anyway.
    private static func cleanUpOnSignals(_ fleet: DemoFleet) -> InterruptTrap {
        InterruptTrap.install { _ in
            CurrentProcess.writeToStandardError("\ninterrupted: stopping the agents and removing the demo's disks\n")
            fleet.stop()
            CurrentProcess.sleep(for: .seconds(10))
            CurrentProcess.exit(130)
        }
    }
}
