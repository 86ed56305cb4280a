import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceSystem

/// Where the coordinator keeps its history.
struct StateOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The state directory holding history.sqlite.",
            discussion:
                "Default: $QUIESCE_STATE_DIR, else /var/lib/quiesce as root, else $XDG_STATE_HOME/quiesce "
                + "(~/.local/state/quiesce)."
        ))
    var state: String?

    var directory: String {
        if let state { return state }
        let environment = CurrentProcess.environment
        if let directory = environment["QUIESCE_STATE_DIR"], !directory.isEmpty { return directory }
        if CurrentProcess.effectiveUserID == 0 { return "/var/lib/quiesce" }
        let base =
            environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (CurrentProcess.homeDirectory + "/.local/state")
        return base + "/quiesce"
    }

    /// The history store; exits 2 with the reason when it cannot be opened.
    func history() throws -> HistoryStore {
        do {
            return try HistoryStore(directory: directory)
        } catch {
            throw UnusableInput(description: "\(error)")
        }
    }
}

/// Prints `value` as the command's one JSON object.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try QuiesceJSON.encoder(pretty: true).encode(value), as: UTF8.self))
}
