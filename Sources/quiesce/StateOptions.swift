import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHistoryPostgres
import QuiesceSystem

/// The coordinator's state directory: its history (unless `--store`), its CA, enrollment tokens.
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
}

/// Where the coordinator keeps its history: the state directory, or PostgreSQL.
struct HistoryOptions: ParsableArguments {
    @OptionGroup var state: StateOptions

    @Option(
        help: ArgumentHelp(
            "Keep the history in PostgreSQL instead: postgresql://USER@HOST:PORT/DATABASE.",
            discussion:
                "Default: $QUIESCE_STORE, else history.sqlite in the state directory. Coordinators on several hosts "
                + "sharing one share their schedule, claims and takeovers. The password comes from the URL or "
                + "$PGPASSWORD; ?sslmode=require insists on TLS."
        ))
    var store: String?

    /// The history store; exits 2 with the reason when it cannot be opened.
    func history() async throws -> HistoryStore {
        do {
            if let url = store ?? CurrentProcess.environment["QUIESCE_STORE"].flatMap({ $0.isEmpty ? nil : $0 }) {
                return HistoryStore(database: try await PostgresHistoryDatabase(try PostgresStoreURL(url)))
            }
            return try HistoryStore(directory: state.directory)
        } catch {
            throw UnusableInput(description: "\(error)")
        }
    }
}

/// Prints `value` as the command's one JSON object.
func printJSON(_ value: some Encodable) throws {
    print(String(decoding: try QuiesceJSON.encode(value, pretty: true), as: UTF8.self))
}
