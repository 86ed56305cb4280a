import Foundation
import QuiesceAPI

extension Dashboard {
    /// `/runs/<id>`: what ran and how it ended; for a group snapshot its verdict, cut, timeline,
    /// members and their scripts' output; for the others each VM's result; then the whole report.
    public func run(_ id: String) throws(HistoryError) -> Page {
        guard let number = Int64(id), let run = try store.run(number) else {
            return notFound(
                "There is no run \(id) in the history.",
                "Runs are numbered; each group's page and each VM's page link to theirs.")
        }
        let detail: String
        if run.kind == .snapshot, let report = run.decodedReport(GroupSnapshotReport.self) {
            detail = GroupTimelineHTML.sections(report, linkingVMs: true)
        } else {
            let rows = try store.results(of: number).map { result in
                [
                    HTML.vmLink(result.vm), HTML.badge(result.status), HTML.badge(result.consistency ?? ""),
                    HTML.escape(result.detail),
                ]
            }
            detail = HTML.table(id: "results", header: ["VM", "Result", "Consistency", "Detail"], rows: rows)
        }
        return page(
            "Run \(number)",
            """
            <table class="facts" id="run">
            <tr><td>Run</td><td>#\(number): \(run.kind.rawValue) \(HTML.badge(run.status.rawValue))\(
                run.groupName.map { " of group " + HTML.groupLink($0) } ?? "")</td></tr>
            <tr><td>Started</td><td>\(HTML.time(run.startedAt))</td></tr>
            <tr><td>Finished</td><td>\(HTML.time(run.finishedAt))</td></tr>
            <tr><td>Fleet</td><td>\(HTML.escape(run.fleet)), \(run.targets) VMs</td></tr>
            <tr><td>Summary</td><td>\(HTML.escape(run.summary))</td></tr>
            </table>
            \(detail)
            <h2>Whole report</h2>
            <details id="report"><summary>JSON (also <code>quiesce show \(number) --json</code>)</summary>
            <pre>\(HTML.escape(run.report.map(Self.pretty) ?? "(none: the run did not finish)"))</pre></details>
            """)
    }

    /// The kept report, indented; as kept when it cannot be read.
    private static func pretty(_ report: String) -> String {
        guard let value = try? JSONValue.parse(Array(report.utf8)),
            let data = try? QuiesceJSON.encoder(pretty: true).encode(value)
        else { return report }
        return String(decoding: data, as: UTF8.self)
    }
}
