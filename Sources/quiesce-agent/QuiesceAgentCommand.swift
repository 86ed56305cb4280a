import ArgumentParser
import Glibc

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
        ]
    )

    /// Exit codes are a contract: 0 and 1 are the command's verdict, 2 is unusable arguments or
    /// settings (argument-parser's own default for usage errors is 64).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            FileHandleStandardError.write(fullMessage(for: error) + "\n")
            Glibc.exit(2)
        }
    }
}

/// Writes to standard error without pulling in Foundation.
enum FileHandleStandardError {
    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }
}
