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
            Starts three quiesce-agent processes on loopback, each with its own disk and an application writing to \
            all of them (as root, loop-mounted ext4 images that are really frozen; otherwise plain directories), \
            pushes a config and scripts, sweeps, takes one group snapshot, mounts the copies and checks that they are \
            one consistent cut. Cleans up everything, also when interrupted. Exits 0 when the snapshot succeeded \
            and the cut is consistent.
            """
    )

    @Option(help: "Where to write the HTML timeline.")
    var timeline = "/tmp/quiesce-demo-timeline.html"

    @Flag(help: "Print one JSON object on standard output instead of the story.")
    var json = false

    func run() async throws {
        let agentPath: String
        do {
            let own = try CurrentProcess.executablePath()
            agentPath = own[..<(own.lastIndex(of: "/") ?? own.startIndex)] + "/quiesce-agent"
        } catch {
            throw UnusableInput(description: "quiesce demo: cannot find this program's own path: \(error)")
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
            try fleet.start(count: 3, agentPath: agentPath)
            let json = json
            let demo = Demo(agentPath: agentPath, timelinePath: timeline, style: json ? .plain : .detect()) { line in
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
