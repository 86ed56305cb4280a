import ArgumentParser
import Logging
import QuiesceAPI
import QuiesceAgent
import QuiesceAgentServer
import QuiesceSystem
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the agent's authenticated HTTP API (docs/api.md) until SIGTERM or SIGINT.",
        discussion:
            "Exits 0 after a graceful shutdown, 2 for unusable settings (listen address, token file, TLS files)."
    )

    @OptionGroup var options: SettingsOptions

    @Flag(help: "Allow plaintext HTTP on a non-loopback address. Tokens then cross the network in the clear.")
    var insecurePlaintext = false

    func run() async throws {
        let settings = try options.load()
        // What a crash of the agent and its guard together left frozen is thawed before anything else.
        for mount in ThawAll.run(settings: settings, candidates: false).mounts where mount.result != .notFrozen {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: at start, \(mount.mountPoint) was left frozen by an earlier agent: "
                    + (mount.result == .thawed ? "thawed" : "could not thaw it: \(mount.message ?? "")") + "\n")
        }
        let sentinel = startSentinel(settings: settings)
        defer { sentinel?.stop() }
        var agent: Agent
        do {
            agent = try buildAgent(settings: settings, insecurePlaintext: insecurePlaintext, sentinel: sentinel)
        } catch {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let server = agent.server
        agent.server.onListening = { port in
            CurrentProcess.writeToStandardError(
                "quiesce-agent: listening on \(server.address.host):\(port)\(server.tls == nil ? "" : " (TLS)")\n")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: agent.services, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "quiesce-agent")))
        do {
            try await group.run()
        } catch let error as AgentError {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
    }

    /// The child that ends the scripts' process groups if this agent is killed. Without it the
    /// agent still serves, as agents did before it, and says so.
    private func startSentinel(settings: AgentSettings) -> GroupSentinel? {
        do {
            return try GroupSentinel.start(
                executable: try CurrentProcess.executablePath(),
                subcommand: GroupSentinelCommand.configuration.commandName!,
                grace: .seconds(settings.scriptKillGraceSeconds))
        } catch {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: cannot start the group sentinel (\(error)); scripts will outlive a killed agent\n")
            return nil
        }
    }
}
