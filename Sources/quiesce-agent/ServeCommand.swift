import ArgumentParser
import Logging
import QuiesceAgent
import QuiesceAgentServer
import QuiesceSystem
import ServiceLifecycle
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the agent's authenticated HTTP API (docs/api.md) until SIGTERM or SIGINT.",
        discussion: "Exits 0 after a graceful shutdown, 2 for unusable settings (listen address, token file, TLS files)."
    )

    @OptionGroup var options: SettingsOptions

    @Flag(help: "Allow plaintext HTTP on a non-loopback address. Tokens then cross the network in the clear.")
    var insecurePlaintext = false

    func run() async throws {
        let settings = try options.load()
        let server: AgentServer
        do {
            server = try AgentServer(settings: settings, insecurePlaintext: insecurePlaintext)
        } catch {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var listening = server
        listening.onListening = { port in
            CurrentProcess.writeToStandardError("quiesce-agent: listening on \(server.address.host):\(port)\(server.tls == nil ? "" : " (TLS)")\n")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                // Shut down in reverse: sessions first (thaw, post-scripts), then the listener.
                services: [listening, SessionService(sessions: server.sessions, audit: server.audit)], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "quiesce-agent")))
        try await group.run()
    }
}
