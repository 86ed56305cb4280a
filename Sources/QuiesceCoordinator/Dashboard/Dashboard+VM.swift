import Foundation
import QuiesceAPI

extension Dashboard {
    /// `/vms/<name>`: where it is, its groups and labels, its latest sweep and snapshot, and
    /// every recent run that reached it with its own result there.
    public func vm(_ name: String) async throws(HistoryError) -> Page {
        guard let vm = inventory.vms.first(where: { $0.name == name }) else {
            return notFound(
                "There is no VM \(name) in \(fleetPath).", #"The <a href="/">fleet page</a> lists and filters them."#)
        }
        let runs = try await store.runs(vm: name, limit: 50, reports: false)
        let results = try await store.results(of: runs.compactMap(\.id), vm: name)
        let sweep = try await store.latestResults(kind: .sweep, vm: name)[name]
        let snapshot = try await store.latestResults(kind: .snapshot, vm: name)[name]
        let rows = runs.map { run in
            let result = run.id.flatMap { results[$0] }
            return [
                HTML.runLink(run.id), run.kind.rawValue, HTML.time(run.startedAt), HTML.badge(run.status.rawValue),
                HTML.badge(result?.status ?? ""), HTML.badge(result?.consistency ?? ""),
                HTML.escape(result?.detail ?? ""),
            ]
        }
        let labels = vm.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return page(
            "VM \(name)",
            """
            <h1>VM \(HTML.escape(name))</h1>
            <table class="facts" id="vm">
            <tr><td>Address</td><td>\(HTML.escape(vm.address))</td></tr>
            <tr><td>Groups</td><td>\(vm.groups.map(HTML.groupLink).joined(separator: " "))</td></tr>
            <tr><td>Labels</td><td>\(HTML.escape(labels.joined(separator: ", ")))</td></tr>
            <tr><td>Latest sweep</td><td id="latest-sweep">\(sweep.map { """
                \(HTML.badge($0.status)) \(HTML.escape($0.detail)) · next snapshot would reach \
                \(HTML.badge($0.consistency ?? "")) · \(HTML.runLink($0.runId)) \(HTML.time($0.finishedAt))
                """ } ?? "never swept")</td></tr>
            <tr><td>Latest snapshot</td><td id="latest-snapshot">\(snapshot.map { """
                \(HTML.badge($0.status)) \(HTML.badge($0.consistency ?? "")) \(HTML.escape($0.detail)) · \
                \(HTML.runLink($0.runId)) \(HTML.time($0.finishedAt))
                """ } ?? "none")</td></tr>
            </table>
            <h2>History</h2>
            \(rows.isEmpty ? "<p>No run has reached this VM yet.</p>" : HTML.table(
                id: "history", header: ["Run", "Kind", "Started", "Run result", "Here", "Consistency", "Detail"],
                rows: rows))
            """)
    }
}
