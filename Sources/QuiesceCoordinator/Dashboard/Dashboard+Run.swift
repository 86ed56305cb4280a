import Foundation
import QuiesceAPI

extension Dashboard {
    /// `/runs/<id>`: what ran and how it ended; for a group snapshot its verdict, cut, timeline,
    /// members and their scripts' output; for the others each VM's result; then the whole report.
    public func run(_ id: String) async throws(HistoryError) -> Page {
        guard let number = Int64(id), let run = try await store.run(number) else {
            return notFound(
                "There is no run \(id) in the history.",
                "Runs are numbered; each group's page and each VM's page link to theirs.")
        }
        let detail: String
        if run.kind == .snapshot, let report = reports.report(of: run) {
            detail = GroupTimelineHTML.sections(report, linkingVMs: true)
        } else {
            let rows = try await store.results(of: number).map { result in
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
            <p id="report">\(run.report == nil ? "None: the run did not finish." : """
                <a href="/runs/\(number)/report.json">The whole report as JSON</a>, as \
                <code>quiesce show \(number) --json</code> prints it.
                """)</p>
            """)
    }

    /// `/runs/<id>/report.json`: the run's whole report, as kept.
    public func report(_ id: String) async throws(HistoryError) -> (json: String, found: Bool) {
        guard let number = Int64(id), let report = try await store.run(number)?.report else {
            return (#"{"error": "there is no report of run \#(id.filter(\.isNumber)) in the history"}"#, false)
        }
        return (report, true)
    }
}
