import Foundation

extension PushReport: RecordedReport {
    public static var historyKind: HistoryRun.Kind { .push }

    public var historySummary: String {
        "\(summary.pushed + summary.unchanged) of \(summary.total) have the files"
            + (canary?.passed == false ? "; the canary failed" : "")
    }

    public var historyVMs: [HistoryVMResult] {
        vms.map { HistoryVMResult(vm: $0.name, status: $0.status.rawValue, detail: $0.problem ?? "") }
    }

    /// Every file of the push on every VM that has it now.
    public func pushedFiles(at time: Date) -> [PushedFile] {
        vms.filter { $0.status == .pushed || $0.status == .unchanged }.flatMap { vm in
            hashes.sorted { $0.key < $1.key }.map {
                PushedFile(vm: vm.name, role: $0.key, sha256: $0.value, pushedAt: time)
            }
        }
    }
}
