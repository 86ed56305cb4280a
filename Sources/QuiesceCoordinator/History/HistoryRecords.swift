import Foundation
import GRDB
import QuiesceSystem

/// One push, sweep or group snapshot.
public struct HistoryRun: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"

    public enum Kind: String, Codable, Sendable, CaseIterable {
        case push
        case sweep
        case snapshot
        /// A group's retention carried out: snapshots deleted on its VMs.
        case prune
    }

    public enum Status: String, Codable, Sendable {
        case running
        case succeeded
        case failed
        /// Started by a process that is gone without finishing it.
        case interrupted
    }

    public var id: Int64?
    public var kind: Kind
    public var startedAt: Date
    public var finishedAt: Date?
    public var status: Status
    /// The inventory file the run used.
    public var fleet: String
    public var targets: Int
    /// One line: the counts, or why it failed.
    public var summary: String
    public var processId: Int64
    /// The command's whole `--json` report.
    public var report: String?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// A run still marked running whose process is gone was interrupted (the coordinator was
    /// killed or the machine went down).
    var resolvingInterruption: HistoryRun {
        guard status == .running, !CurrentProcess.isAlive(processId: Int32(processId)) else { return self }
        var run = self
        run.status = .interrupted
        run.summary = "interrupted: the coordinator (pid \(processId)) ended before the run finished"
        return run
    }
}

/// One VM's outcome in a run.
public struct HistoryVMResult: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "runVM"

    public var runId: Int64 = 0
    public var vm: String
    /// The command's own word: `compliant`, `pushed`, `unreachable`, `failed`...
    public var status: String
    /// The first problem, or what was done.
    public var detail: String

    public init(vm: String, status: String, detail: String) {
        self.vm = vm
        self.status = status
        self.detail = detail
    }
}

/// A file a push left on a VM: what a later sweep expects to find there.
public struct PushedFile: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "pushedFile"

    public var vm: String
    /// `pluginConfig`, `preScript` or `postScript`, as in the agent's compliance report.
    public var role: String
    public var sha256: String
    public var runId: Int64 = 0
    public var pushedAt: Date

    public init(vm: String, role: String, sha256: String, pushedAt: Date) {
        self.vm = vm
        self.role = role
        self.sha256 = sha256
        self.pushedAt = pushedAt
    }
}
