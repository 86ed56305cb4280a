import Foundation

extension HistoryRun {
    /// `quiesce history`: one row per run, newest first; with `vm`, that VM's own result in each.
    public static func table(_ runs: [HistoryRun], vmResults: [Int64: HistoryVMResult] = [:], style: TerminalStyle)
        -> String
    {
        guard !runs.isEmpty else { return "no runs recorded yet\n" }
        let vmColumns = vmResults.isEmpty ? [] : ["VM RESULT", "VM DETAIL"]
        let rows =
            [["RUN", "KIND", "STARTED", "TOOK", "STATUS", "TARGETS", "SUMMARY"] + vmColumns]
            + runs.map { run in
                let result = run.id.flatMap { vmResults[$0] }
                return [
                    "\(run.id ?? 0)", run.kind.rawValue, timestamp(run.startedAt), run.took, run.statusWord(style),
                    "\(run.targets)", run.summary.printable,
                ] + (vmResults.isEmpty ? [] : [result?.status ?? "-", (result?.detail ?? "").printable])
            }
        return TextTable.render(rows)
    }

    /// The heading of `quiesce show`.
    public func heading(style: TerminalStyle) -> String {
        let finished = finishedAt.map { "\n  finished \(Self.timestamp($0)) (\(took))" } ?? ""
        return """
            run \(id ?? 0): \(kind.rawValue) \(statusWord(style))
              started  \(Self.timestamp(startedAt))\(finished)
              fleet    \(fleet), \(targets) VMs
              summary  \(summary.printable)

            """
    }

    func statusWord(_ style: TerminalStyle) -> String {
        switch status {
        case .succeeded: style.good(status.rawValue)
        case .running: style.warning(status.rawValue)
        case .failed, .interrupted: style.bad(status.rawValue.uppercased())
        }
    }

    var took: String {
        guard let finishedAt else { return "-" }
        let seconds = finishedAt.timeIntervalSince(startedAt)
        return seconds < 10 ? String(format: "%.2f s", seconds) : String(format: "%.0f s", seconds)
    }

    public static func timestamp(_ date: Date) -> String {
        date.formatted(
            Date.ISO8601FormatStyle(timeZone: .current).year().month().day().time(includingFractionalSeconds: false))
    }
}
