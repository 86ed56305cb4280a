import ArgumentParser
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem

struct SnapshotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots",
        abstract: "List or prune the snapshots the btrfs or lvm provider made on this machine.",
        subcommands: [List.self, Prune.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Quiesce's snapshots, oldest first.")

        @OptionGroup var options: SettingsOptions

        func run() async throws {
            let report = await SnapshotManagement.list(try options.managedProvider())
            try Output.print(report, json: options.json, text: ReportText.render)
            if !report.errors.isEmpty { throw ExitCode.failure }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the snapshots of each origin that the retention lets go.",
            discussion: """
                Keeps the newest --keep of each origin and every one younger than --keep-days (either rule \
                keeps a snapshot; the newest is never deleted). Only snapshots Quiesce named (quiesce-...) are \
                ever touched. Exits 1 when a deletion failed.
                """
        )

        @OptionGroup var options: SettingsOptions

        @Option(help: "How many snapshots of each origin to keep (at least 1).")
        var keep: Int?

        @Option(help: "Keep every snapshot younger than this many days.")
        var keepDays: Int?

        @Flag(help: "Say what would be deleted without deleting it.")
        var dryRun = false

        func validate() throws {
            do {
                _ = try RetentionPolicy(keepLast: keep, keepDays: keepDays)
            } catch {
                throw ValidationError(
                    "\(error)".replacing("`keepLast`", with: "--keep")
                        .replacing("`keepDays`", with: "--keep-days"))
            }
        }

        func run() async throws {
            let policy = try RetentionPolicy(keepLast: keep, keepDays: keepDays)
            let report = await SnapshotManagement.prune(try options.managedProvider(), policy: policy, dryRun: dryRun)
            try Output.print(report, json: options.json, text: ReportText.render)
            if !report.errors.isEmpty { throw ExitCode.failure }
        }
    }
}

extension SettingsOptions {
    /// The settings' managed snapshot provider; exits 2 when the provider keeps no snapshots here.
    func managedProvider() throws -> any ManagedSnapshotProvider {
        do {
            return try SnapshotManagement.provider(for: try load())
        } catch let error as AgentError {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
    }
}
