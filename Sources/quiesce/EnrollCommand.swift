import ArgumentParser
import Foundation
import QuiesceCA
import QuiesceCoordinator
import QuiesceSystem

/// `quiesce enroll`: agents installed with only a join token get a certificate for a key they
/// made themselves, and switch to mutual TLS with the fleet's CA pinned.
struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Enroll agents: a certificate for each agent's own key, then mutual TLS (docs/deploy.md).",
        discussion: """
            `quiesce enroll token` makes a one-time join token per selected VM (kept 0600 in the state directory's \
            enroll/); put each on its VM (mode 0600, enrollment.joinTokenFile, e.g. through cloud-init). \
            `quiesce enroll` then enrolls every selected VM with a token waiting: both sides prove they hold the \
            token, the CA signs the agent's own key (which never leaves the VM), the agent pins the CA and deletes \
            the token, and the coordinator reaches it over mutual TLS. Exits 0 when every VM is enrolled, 1 when \
            one is not, 2 for unusable input.
            """,
        subcommands: [Agents.self, Token.self], defaultSubcommand: Agents.self
    )

    struct Agents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "agents", abstract: "Enroll the selected VMs that have a join token waiting (the default).")

        @OptionGroup var options: FleetOptions
        @OptionGroup var location: CACommand.Location

        @Option(help: "How long each certificate is valid, in days (never past the CA's own end).")
        var days = 397

        func run() async throws {
            let (inventory, vms) = try options.selectedVMs()
            let enrollment = FleetEnrollment(
                ca: try location.open(), tokens: JoinTokens(directory: location.state.directory + "/enroll"),
                agents: options.agentClient(for: inventory), days: days)
            let outcomes = await enrollment.run(vms)
            if options.json {
                try printJSON(["vms": outcomes])
            } else {
                for outcome in outcomes {
                    let until = outcome.certificateNotAfter.map { ", certificate until \($0.formatted(.iso8601))" }
                    print(
                        "\(outcome.name) (\(outcome.address)): \(outcome.status.rawValue)\(until ?? "")"
                            + (outcome.problem.map { "\n  \($0)" } ?? ""))
                }
            }
            if outcomes.contains(where: { $0.status != .enrolled }) { throw ExitCode(1) }
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a one-time join token for each selected VM (an unused one is replaced).")

        @OptionGroup var selectors: FleetSelectors
        @OptionGroup var location: CACommand.Location

        func validate() throws {
            guard !selectors.pickAll else { throw ValidationError("say which VMs: --vm, --group or --label") }
        }

        func run() throws {
            let ca = try location.open()
            let (_, vms) = try selectors.selectedVMs(requiringFiles: false)
            let tokens = JoinTokens(directory: location.state.directory + "/enroll")
            for vm in vms {
                do {
                    print("\(vm.name) \(try tokens.make(for: vm.name, caFingerprint: ca.fingerprint))")
                } catch {
                    throw UnusableInput(description: "quiesce enroll token: \(vm.name): \(error)")
                }
            }
            CurrentProcess.writeToStandardError(
                "next: write each token to its VM's /etc/quiesce/join-token (mode 0600) and start the agent; then "
                    + "run `quiesce enroll` with the same selectors\n")
        }
    }
}
