import Foundation
import QuiesceAPI

/// A group's retention carried out: each member's agent deletes the snapshots the policy lets go
/// of (`POST /v1/snapshots/prune`, each origin on its own, its newest always kept), and, once
/// every member has, the history forgets the group's snapshot runs the same policy lets go of.
/// Every deletion is in the report, which the history keeps as a `prune` run.
public enum SnapshotPrune {
    public static func run(
        group: String, policy: RetentionPolicy, members: [FleetInventory.VM], agents: AgentClient,
        history: HistoryStore?, dryRun: Bool = false, now: Date = Date()
    ) async -> PruneReport {
        let request = SnapshotPruneRequest(policy, dryRun: dryRun)
        let results = await members.concurrentMap(atMost: agents.maxConcurrentVMs) { vm -> PruneReport.Member in
            switch await agents.post(SnapshotsReport.self, AgentRoutes.snapshotsPrune, on: vm, json: request) {
            case .success(let report):
                return PruneReport.Member(
                    name: vm.name, status: report.errors.isEmpty ? .pruned : .failed, deleted: report.deleted,
                    kept: report.snapshots.count, errors: report.errors)
            case .failure(.refused(_, let body)) where body?.code == .noManagedSnapshots:
                return PruneReport.Member(
                    name: vm.name, status: .notManaged, deleted: [], kept: 0, errors: [body?.message ?? ""])
            case .failure(let error):
                return PruneReport.Member(
                    name: vm.name, status: error.isUnreachable ? .unreachable : .failed, deleted: [], kept: 0,
                    errors: ["\(error)"])
            }
        }
        var report = PruneReport(
            group: group, keepLast: policy.keepLast, keepDays: policy.keepDays, dryRun: dryRun, members: results)
        // Snapshots a member could not delete still exist: their runs stay in the history.
        if let history, report.succeeded {
            do {
                report.historyRunsDeleted = try await history.pruneSnapshotRuns(
                    group: group, policy: policy, dryRun: dryRun, now: now)
            } catch {
                report.historyError = "\(error)"
            }
        }
        return report
    }
}

/// What a group's retention deleted, VM by VM.
public struct PruneReport: Codable, Sendable {
    public var group: String
    public var keepLast: Int?
    public var keepDays: Int?
    public var dryRun: Bool
    public var members: [Member]
    /// The history's snapshot runs of the group that went with them.
    public var historyRunsDeleted: [Int64] = []
    public var historyError: String?

    public struct Member: Codable, Sendable {
        public enum Status: String, Codable, Sendable {
            case pruned
            case failed
            case unreachable
            /// Its provider keeps no snapshots on the VM (none, command): nothing to prune there.
            case notManaged
        }

        public var name: String
        public var status: Status
        public var deleted: [SnapshotRecord]
        /// Snapshots left on the VM.
        public var kept: Int
        public var errors: [String]
    }

    public var succeeded: Bool {
        historyError == nil && members.allSatisfy { $0.status == .pruned || $0.status == .notManaged }
    }

    public var deletedCount: Int { members.map(\.deleted.count).reduce(0, +) }
}

extension PruneReport: RecordedReport {
    public static var historyKind: HistoryRun.Kind { .prune }

    public var historySummary: String {
        let failed = members.filter { $0.status == .failed || $0.status == .unreachable }.count
        return "group \(group): \(dryRun ? "would delete" : "deleted") \(deletedCount) snapshots on "
            + "\(members.count) VMs, \(failed) failed, \(historyRunsDeleted.count) history runs"
    }

    public var historyVMs: [HistoryVMResult] {
        members.map { member in
            HistoryVMResult(
                vm: member.name, status: member.status.rawValue,
                detail: member.errors.first
                    ?? (member.deleted.isEmpty ? "" : "deleted " + member.deleted.map(\.id).joined(separator: ", ")))
        }
    }

    public var historyFacts: RunFacts { RunFacts(group: group) }

    public func text() -> String {
        var lines = [
            "group \(group), keep \(keepLast.map { "the last \($0)" } ?? "")"
                + (keepLast != nil && keepDays != nil ? " and " : "")
                + (keepDays.map { "\($0) days" } ?? "") + (dryRun ? " (dry run: nothing deleted)" : "")
        ]
        for member in members {
            lines.append(
                "  \(member.name): \(member.status.rawValue), \(member.deleted.count) deleted, \(member.kept) kept")
            lines += member.deleted.map { "    - \($0.id) (\(HistoryRun.timestamp($0.createdAt)))" }
            lines += member.errors.map { "    ! \($0)" }
        }
        if !historyRunsDeleted.isEmpty {
            lines.append("  history: runs \(historyRunsDeleted.map(String.init).joined(separator: ", ")) forgotten")
        }
        if let historyError { lines.append("  history: \(historyError)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
