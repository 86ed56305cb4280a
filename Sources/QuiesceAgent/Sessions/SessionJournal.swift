import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// Each open session's progress, kept in the agent's state directory (tmpfs, `/run/quiesce`)
/// and written before each step of its cycle begins and after it ends, so that an agent
/// restarted after a crash knows which sessions were open, where each stood, and which
/// post-scripts it still owes.
public struct SessionJournal: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// Where one session stood when its entry was written.
    struct Entry: Codable {
        var sessionId: String
        /// The step under way, or the next one.
        var step: CyclePhase
        /// Whether `step` had begun (and so may have been cut short by a crash).
        var begun: Bool
        /// The plugins whose post-scripts are owed, in plugin order: every plugin once the
        /// pre-check let the scripts run, none otherwise.
        var owed: [OwedPostScript]
        /// How each pre-script ended; nil until they all did.
        var preResults: [ScriptResult]?
        /// `QUIESCE_SNAPSHOT_RESULT` as it stood.
        var snapshotResult: String
        /// The report as it stood.
        var report: CycleReport
    }

    /// What running one plugin's post-script takes, as the pre-check found it.
    struct OwedPostScript: Codable, Equatable {
        var plugin: String
        var configPath: String
        var path: String
        var params: [String]
        var retries: Int
        var budgetSeconds: Int

        init(_ plugin: Precheck.Plugin) {
            let script = plugin.config.script(.post)
            self.plugin = plugin.name
            configPath = plugin.configPath
            path = script.location
            params = script.params
            retries = script.retries
            budgetSeconds = plugin.budgetSeconds
        }

        var asPlugin: Precheck.Plugin {
            var config = PluginConfig(preScriptLocation: "", postScriptLocation: path)
            config.postScriptParams = params
            config.postScriptNoOfRetries = retries
            return Precheck.Plugin(name: plugin, configPath: configPath, config: config, budgetSeconds: budgetSeconds)
        }
    }

    /// Writes (or replaces) a session's entry. Best effort, like the guard's records: a state
    /// directory that cannot be written must not stop a backup; it only costs the post-scripts
    /// after a crash.
    func write(_ entry: Entry) {
        guard let bytes = try? QuiesceJSON.encode(entry) else { return }
        try? Directory.make(directory, mode: 0o700)
        try? AtomicFile.write(Array(bytes), to: path(of: entry.sessionId), mode: 0o600)
    }

    func remove(sessionId: String) {
        AtomicFile.remove(path(of: sessionId))
    }

    /// Every entry, oldest session first; unreadable entries are skipped.
    func all() -> [Entry] {
        let names = (try? DirectoryListing.names(in: directory)) ?? []
        let entries = names.filter { $0.hasPrefix(Self.prefix) && $0.hasSuffix(".json") }.compactMap { name in
            (try? FileReader.read("\(directory)/\(name)")).flatMap {
                try? QuiesceJSON.decode(Entry.self, from: $0)
            }
        }
        return entries.sorted { $0.report.startedAt < $1.report.startedAt }
    }

    private static let prefix = "session-"

    private func path(of sessionId: String) -> String { "\(directory)/\(Self.prefix)\(sessionId).json" }
}
