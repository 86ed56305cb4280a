extension SweepReport: RecordedReport {
    public static var historyKind: HistoryRun.Kind { .sweep }

    public var succeeded: Bool { summary.compliant == summary.total }

    public var historySummary: String {
        "\(summary.compliant) of \(summary.total) compliant, \(summary.nonCompliant) not, \(summary.unreachable) "
            + "unreachable"
    }

    public var historyVMs: [HistoryVMResult] {
        vms.map { vm in
            HistoryVMResult(
                vm: vm.name, status: vm.reachable ? (vm.compliant ? "compliant" : "nonCompliant") : "unreachable",
                detail: vm.problems.first ?? "", consistency: vm.predictedConsistency)
        }
    }
}
