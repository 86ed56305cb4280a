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
            "SIGHUP reloads the token files and the TLS certificate and key named in the settings file (all of them, "
            + "or nothing when one is unusable). Exits 0 after a graceful shutdown, 2 for unusable settings (listen "
            + "address, token file, TLS files)."
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
        let tls = server.credentials.usesTLS ? " (TLS)" : ""
        agent.server.onListening = { port in
            CurrentProcess.writeToStandardError("quiesce-agent: listening on \(server.address.host):\(port)\(tls)\n")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: agent.services, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "quiesce-agent")))
        let credentials = agent.server.credentials
        let reloads = Task { [options] in
            for await _ in await UnixSignalsSequence(trapping: .sighup) { Self.reload(credentials, options: options) }
        }
        defer { reloads.cancel() }
        do {
            try await group.run()
        } catch let error as AgentError {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
    }

    /// SIGHUP: the settings file read again for its tokens and TLS files, which replace the ones
    /// in use only if every one is usable. Connections and sessions under way go on.
    private static func reload(_ credentials: AgentCredentials, options: SettingsOptions) {
        do {
            let settings = try AgentSettings.load(path: options.settings)
            let now = try credentials.reload(settings.server, owner: settings.requiredOwnerUid)
            CurrentProcess.writeToStandardError("quiesce-agent: SIGHUP: reloaded \(now)\n")
        } catch {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: SIGHUP: nothing reloaded, the ones in use stay: \(error.message)\n")
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
