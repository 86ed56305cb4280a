import ArgumentParser
import Glibc
import QuiesceAPI
import QuiesceAgent
import QuiesceAgentServer
import QuiesceHTTPServer
import QuiesceSystem
import Synchronization

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the agent's authenticated HTTP API (docs/api.md) until SIGTERM or SIGINT.",
        discussion:
            "SIGHUP reloads the token files and the TLS certificate and key named in the settings file (all of them, "
            + "or nothing when one is unusable). With a join token (enrollment.joinTokenFile) and no certificate, "
            + "serves only enrollment until `quiesce enroll` gives it one, then mutual TLS. Exits 0 after a graceful "
            + "shutdown, 2 for unusable settings (listen address, token file, TLS files, join token)."
    )

    @OptionGroup var options: SettingsOptions

    @Flag(help: "Allow plaintext HTTP on a non-loopback address. Tokens then cross the network in the clear.")
    var insecurePlaintext = false

    func run() async throws {
        // A long-lived daemon: the relocation tables read at start are not wanted again.
        RelocationPages.release()
        let settings = try options.load()
        // What a crash of the agent and its guard together left frozen is thawed before anything else.
        for mount in ThawAll.run(settings: settings, candidates: false).mounts where mount.result != .notFrozen {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: at start, \(mount.mountPoint) was left frozen by an earlier agent: "
                    + (mount.result == .thawed ? "thawed" : "could not thaw it: \(mount.message ?? "")") + "\n")
        }
        let sentinel = startSentinel(settings: settings)
        defer { sentinel?.stop() }
        // An agent with a join token serves enrollment only, then, once enrolled, everything
        // with mutual TLS: the loop runs at most twice.
        while true {
            let enrollment: AgentEnrollment?
            var agent: Agent
            do {
                enrollment = try waitingEnrollment(settings)
                agent = try buildAgent(
                    settings: settings, insecurePlaintext: insecurePlaintext, sentinel: sentinel, enrollment: enrollment
                )
            } catch {
                CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
                throw ExitCode(2)
            }
            let server = agent.server
            let mode =
                enrollment != nil
                ? " (waiting for enrollment: plaintext, enrollment only)" : agent.credentials.usesTLS ? " (TLS)" : ""
            agent.server.onListening = { port in
                CurrentProcess.writeToStandardError(
                    "quiesce-agent: listening on \(server.address.host):\(port)\(mode)\n")
            }
            let group = ServiceRunner(services: agent.services)
            let credentials = agent.credentials
            let reloads = InterruptTrap.install(signals: [SIGHUP]) { [options] _ in
                Self.reload(credentials, options: options)
            }
            defer { reloads.remove() }
            // Set only when this loop itself ends the group to start again enrolled, so that a
            // SIGTERM arriving meanwhile still ends the agent.
            let restartEnrolled = Mutex(false)
            let enrolled = Task {
                guard let enrollment else { return }
                await enrollment.waitUntilEnrolled()
                // The answer to the enrollment request goes out before the listener closes.
                try? await Task.sleep(for: .milliseconds(200))
                CurrentProcess.writeToStandardError(
                    "quiesce-agent: enrolled; the join token is deleted; serving mutual TLS from now on\n")
                restartEnrolled.withLock { $0 = true }
                group.triggerGracefulShutdown()
            }
            defer { enrolled.cancel() }
            do {
                try await group.run()
            } catch let error as AgentError {
                CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
                throw ExitCode(2)
            } catch let error as ListenAddress.Refused {
                CurrentProcess.writeToStandardError("quiesce-agent: \(error)\n")
                throw ExitCode(2)
            }
            guard restartEnrolled.withLock({ $0 }) else { return }
        }
    }

    /// The enrollment to serve when the agent holds a join token and no certificate.
    private func waitingEnrollment(_ settings: AgentSettings) throws(AgentError) -> AgentEnrollment? {
        guard
            case .waiting(let token) = try AgentEnrollment.state(of: settings.server, owner: settings.requiredOwnerUid)
        else { return nil }
        return try AgentEnrollment(token: token, server: settings.server, owner: settings.requiredOwnerUid)
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
