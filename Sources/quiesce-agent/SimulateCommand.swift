import ArgumentParser
import FoundationEssentials
import QuiesceAPI
import QuiesceAgent
import QuiesceSimulator
import QuiesceSystem

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run many simulated agents in one process, for testing and benchmarking the coordinator.",
        discussion: """
            Agent i listens on 127.0.0.1:(base-port + i) with its files under ROOT/agent-i: real HTTP, \
            authentication, pushes, sessions and scripts; the freeze and the snapshot are simulated. \
            A fleet too large for one process is split over several sharing ROOT and base port, each \
            with its own --first (ten of 1,000: --first 0, --first 1000, ...). \
            A faults file (JSON, see FaultPlan) adds latency, failures, hangs, dropped or refused connections.
            """
    )

    @Option(help: "How many agents.") var count: Int
    @Option(help: "The first agent's number i (agents i to i+count-1).") var first = 0
    @Option(help: "The first agent's port on 127.0.0.1.") var basePort: Int
    @Option(help: "A directory for the agents' files.") var root: String
    @Option(help: "The token every agent accepts (a file of mode 0600).") var tokenFile: String
    @Option(help: "A JSON fault plan.") var faults: String?
    @Flag(help: "Report every script as succeeded at once instead of running it.") var instantScripts = false

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard first >= 0 else { throw ValidationError("--first must be 0 or more") }
        guard (1...65535).contains(basePort), basePort + first + count - 1 <= 65535 else {
            throw ValidationError(
                "--base-port \(basePort) with --first \(first) and --count \(count) runs past port 65535")
        }
    }

    func run() async throws {
        var plan = FaultPlan()
        if let faults {
            do {
                plan = try QuiesceJSON.decode(FaultPlan.self, from: try FileReader.read(faults))
            } catch {
                CurrentProcess.writeToStandardError("quiesce-agent: cannot read the fault plan \(faults): \(error)\n")
                throw ExitCode(2)
            }
        }
        // A listening socket per agent, and connections on top: the usual 1024 is not enough.
        let openFiles = CurrentProcess.raiseOpenFileLimit()
        if openFiles < UInt64(count) * 2 + 64 {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: warning: only \(openFiles) open files allowed; raise `ulimit -Hn` for \(count) agents\n"
            )
        }
        let simulator = FleetSimulator(
            count: count, first: first, basePort: basePort, root: root, tokenFile: tokenFile, faults: plan,
            instantScripts: instantScripts)
        let services: [any Service]
        do {
            services = try simulator.services()
        } catch {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
        CurrentProcess.writeToStandardError(
            "quiesce-agent: simulating agents \(first)-\(first + count - 1) on 127.0.0.1:\(basePort + first)-"
                + "\(basePort + first + count - 1)\n")
        do {
            try await ServiceRunner(services: services, shutdownDeadline: .seconds(5)).run()
        } catch is ShutdownDeadlinePassed {
            // Hanging agents never finish their requests by themselves: they were cut off.
        }
    }
}
