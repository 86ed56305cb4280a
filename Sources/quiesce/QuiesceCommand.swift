import ArgumentParser
import Foundation

/// `quiesce`: the coordinator of a fleet of Quiesce agents.
@main
struct QuiesceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiesce",
        abstract: "Drive a fleet of Quiesce agents: inventory, pushes, compliance, group snapshots.",
        subcommands: [InventoryCommand.self, SweepCommand.self]
    )

    /// Exit codes: 0 and 1 are the command's verdict, 2 is unusable arguments or files.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            if exitCode(for: error).rawValue == 0 {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// The options that pick the fleet and the VMs every command works on.
struct FleetOptions: ParsableArguments {
    @Option(help: "The fleet inventory (see fleet.example.json).")
    var fleet = "fleet.json"

    @Option(help: "Only VMs in this group (repeatable).")
    var group: [String] = []

    @Option(help: "Only this VM (repeatable).")
    var vm: [String] = []

    @Option(help: "Only VMs with this label, key=value (repeatable).")
    var label: [String] = []

    @Flag(help: "Print one JSON object on standard output.")
    var json = false
}
