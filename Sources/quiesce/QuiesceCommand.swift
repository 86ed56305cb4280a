import ArgumentParser
import QuiesceCoordinator
import QuiesceSystem

/// `quiesce`: the coordinator of a fleet of Quiesce agents.
@main
struct QuiesceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiesce",
        abstract: "Drive a fleet of Quiesce agents: inventory, pushes, compliance, group snapshots, schedules.",
        subcommands: [
            DemoCommand.self, InventoryCommand.self, PushCommand.self, SweepCommand.self, SnapshotCommand.self,
            ServeCommand.self, PruneCommand.self, EventsCommand.self, EnrollCommand.self, SignCommand.self,
            CACommand.self,
            HistoryCommand.self, ShowCommand.self, DemoRestoreCheckCommand.self,
        ]
    )

    /// Exit codes: 0 and 1 are the command's verdict, 2 is unusable arguments or files.
    static func main() async {
        // A socket per agent is kept open between phases: thousands of them for a large fleet.
        CurrentProcess.raiseOpenFileLimit()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            CurrentProcess.exit(code.rawValue)
        } catch let error as UnusableInput {
            CurrentProcess.writeToStandardError(error.description + "\n")
            CurrentProcess.exit(2)
        } catch {
            if exitCode(for: error).rawValue == 0 {
                print(fullMessage(for: error))
                CurrentProcess.exit(0)
            }
            CurrentProcess.writeToStandardError(fullMessage(for: error) + "\n")
            CurrentProcess.exit(2)
        }
    }
}

/// Files or arguments a command cannot work with: printed on standard error, exit status 2.
struct UnusableInput: Error, CustomStringConvertible {
    var description: String
}
