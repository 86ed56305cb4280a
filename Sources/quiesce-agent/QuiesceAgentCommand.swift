import ArgumentParser
import QuiesceSimulator
import QuiesceSystem

/// `quiesce-agent`: the per-VM agent of Quiesce.
@main
struct QuiesceAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiesce-agent",
        abstract: "Application-consistent snapshots of this VM: pre/post scripts, freeze, snapshot.",
        subcommands: [
            RunOnceCommand.self, CheckCommand.self, ServeCommand.self, ThawAllCommand.self, SnapshotsCommand.self,
            SimulateCommand.self,
            FreezeGuardCommand.self,
            GroupSentinelCommand.self,
        ]
    )

    /// Exit codes are a contract: 0 and 1 are the command's verdict, 2 is unusable arguments or
    /// settings (argument-parser's own default for usage errors is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if command is SimulateCommand { FleetSimulator.runTasksOnEventLoops() }
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            CurrentProcess.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                print(fullMessage(for: error))
                CurrentProcess.exit(0)
            }
            CurrentProcess.writeToStandardError(fullMessage(for: error) + "\n")
            CurrentProcess.exit(2)
        }
    }
}
