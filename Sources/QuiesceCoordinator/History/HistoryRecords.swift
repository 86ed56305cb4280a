import Foundation
import QuiesceAPI
import QuiesceSystem

/// One push, sweep or group snapshot.
public struct HistoryRun: Codable, Sendable {
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
    /// The group of a snapshot or prune run.
    public var groupName: String?
    /// What a snapshot reached, a `Consistency` raw value.
    public var consistency: String?
    public var freezeSkewMs: Double?
    /// The longest any member was frozen.
    public var frozenMs: Double?
    /// `host:pid` of the coordinator that ran it; nil for runs recorded before it was kept.
    public var owner: String?

    /// Every column but the report, which is read only when asked for.
    static let columns =
        "id, kind, startedAt, finishedAt, status, fleet, targets, summary, processId, groupName, consistency, "
        + "freezeSkewMs, frozenMs, owner"

    init(row: SQLRow) throws(HistoryError) {
        id = try row.integer("id")
        kind = try row.enumeration("kind")
        startedAt = try row.date("startedAt")
        finishedAt = try row.optionalDate("finishedAt")
        status = try row.enumeration("status")
        fleet = try row.text("fleet")
        targets = Int(try row.integer("targets"))
        summary = try row.text("summary")
        processId = try row.integer("processId")
        report = try row.optionalText("report")
        groupName = try row.optionalText("groupName")
        consistency = try row.optionalText("consistency")
        freezeSkewMs = try row.optionalReal("freezeSkewMs")
        frozenMs = try row.optionalReal("frozenMs")
        owner = try row.optionalText("owner")
    }

    /// When it finished, or started if it has not.
    public var endedAt: Date { finishedAt ?? startedAt }

    /// A run still marked running whose process is gone was interrupted (the coordinator was
    /// killed or the machine went down). Only a process of this host can be looked for; a run of
    /// another host's coordinator is marked interrupted by the one that takes over from it.
    var resolvingInterruption: HistoryRun {
        guard status == .running, owner.map({ $0.hasPrefix(CurrentProcess.hostName + ":") }) ?? true,
            !CurrentProcess.isAlive(processId: Int32(processId))
        else { return self }
        var run = self
        run.status = .interrupted
        run.summary = "interrupted: the coordinator (pid \(processId)) ended before the run finished"
        return run
    }
}

/// One VM's outcome in a run.
public struct HistoryVMResult: Codable, Sendable {
    public var runId: Int64 = 0
    public var vm: String
    /// The command's own word: `compliant`, `pushed`, `unreachable`, `failed`...
    public var status: String
    /// The first problem, or what was done.
    public var detail: String
    /// What a snapshot reached on it, or what a sweep predicts its next snapshot reaches.
    public var consistency: String?

    public init(vm: String, status: String, detail: String, consistency: Consistency? = nil) {
        self.vm = vm
        self.status = status
        self.detail = detail
        self.consistency = consistency?.rawValue
    }

    init(row: SQLRow) throws(HistoryError) {
        runId = try row.integer("runId")
        vm = try row.text("vm")
        status = try row.text("status")
        detail = try row.text("detail")
        consistency = try row.optionalText("consistency")
    }
}

/// The figures of a run that pages and `/metrics` list without reading its whole report.
public struct RunFacts: Sendable, Equatable {
    public var group: String?
    public var consistency: Consistency?
    public var freezeSkewMs: Double?
    public var frozenMs: Double?

    public init(
        group: String? = nil, consistency: Consistency? = nil, freezeSkewMs: Double? = nil, frozenMs: Double? = nil
    ) {
        self.group = group
        self.consistency = consistency
        self.freezeSkewMs = freezeSkewMs
        self.frozenMs = frozenMs
    }
}

/// A VM's result in the newest run of one kind that reached it, kept up to date as runs finish,
/// so the fleet page reads one row per VM and kind instead of scanning the history.
public struct LatestVMResult: Codable, Sendable {
    public var vm: String
    public var kind: HistoryRun.Kind
    public var runId: Int64
    public var finishedAt: Date
    public var status: String
    public var detail: String
    public var consistency: String?

    init(row: SQLRow) throws(HistoryError) {
        vm = try row.text("vm")
        kind = try row.enumeration("kind")
        runId = try row.integer("runId")
        finishedAt = try row.date("finishedAt")
        status = try row.text("status")
        detail = try row.text("detail")
        consistency = try row.optionalText("consistency")
    }
}

/// A file a push left on a VM: what a later sweep expects to find there.
public struct PushedFile: Codable, Sendable, Equatable {
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

    init(row: SQLRow) throws(HistoryError) {
        vm = try row.text("vm")
        role = try row.text("role")
        sha256 = try row.text("sha256")
        runId = try row.integer("runId")
        pushedAt = try row.date("pushedAt")
    }
}
