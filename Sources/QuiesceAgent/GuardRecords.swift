import FoundationEssentials
import QuiesceSystem

/// Notes of the mounts each freeze guard is about to hold, kept in the agent's state directory
/// (tmpfs, `/run/quiesce`) from before the freeze until after the thaw, so that `thaw-all` can
/// find every mount a guard of ours may have left frozen, even after the agent was killed.
public struct GuardRecords: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    struct Record: Codable {
        var mounts: [String]
        var createdAt: Date
    }

    /// Notes `mounts` before they are frozen; returns the record's path. Best effort: a state
    /// directory that cannot be written must not stop a backup, it only weakens `thaw-all`.
    func note(_ mounts: [String]) -> String? {
        let path = "\(directory)/freeze-\(UUID().uuidString.lowercased()).json"
        guard let bytes = try? JSONEncoder().encode(Record(mounts: mounts, createdAt: Date())) else { return nil }
        do {
            try Directory.make(directory, mode: 0o700)
            try AtomicFile.write(Array(bytes), to: path, mode: 0o600)
            return path
        } catch {
            return nil
        }
    }

    /// Every record's path and mounts; unreadable records are skipped.
    func all() -> [(path: String, mounts: [String])] {
        let names = (try? DirectoryListing.names(in: directory)) ?? []
        return names.filter { $0.hasPrefix("freeze-") && $0.hasSuffix(".json") }.compactMap { name in
            let path = "\(directory)/\(name)"
            guard let bytes = try? FileReader.read(path),
                let record = try? JSONDecoder().decode(Record.self, from: Data(bytes))
            else { return nil }
            return (path, record.mounts)
        }
    }
}
