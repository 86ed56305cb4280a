import Foundation
import QuiesceAPI

extension GroupSnapshotReport: RecordedReport {
    public static var historyKind: HistoryRun.Kind { .snapshot }

    public var succeeded: Bool { status == .succeeded }

    public var historySummary: String {
        "\(group): \(status.rawValue), \(consistency.rawValue)"
            + (freezeSkewMs.map { String(format: ", freeze skew %.3f ms", $0) } ?? "")
            + (verification.map { ", verification \($0.result.rawValue)" } ?? "") + (failure.map { "; \($0)" } ?? "")
    }

    public var historyVMs: [HistoryVMResult] {
        members.map {
            HistoryVMResult(
                vm: $0.name, status: $0.status.rawValue, detail: $0.problems.first ?? $0.consistency.rawValue,
                consistency: $0.consistency)
        }
    }

    public var historyFacts: RunFacts {
        RunFacts(
            group: group, consistency: consistency, freezeSkewMs: freezeSkewMs,
            frozenMs: members.compactMap(\.frozenMs).max())
    }
}
