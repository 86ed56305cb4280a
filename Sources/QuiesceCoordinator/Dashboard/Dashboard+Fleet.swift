import Foundation
import QuiesceAPI

extension Dashboard {
    /// The states the fleet page filters on: the latest sweep's word for the VM, or none yet.
    static let vmStates = ["compliant", "nonCompliant", "unreachable", "notSwept"]

    /// `/`: the groups with their latest snapshot and next run, then every VM with its
    /// compliance, what its next snapshot would reach and its latest snapshot, filtered by
    /// `q` (part of the name or address), `group` and `state`.
    public func fleet(query: [String: String]) async throws(HistoryError) -> Page {
        let swept = try await store.latestResults(kind: .sweep)
        let snapshots = try await store.latestResults(kind: .snapshot)
        let state = { (vm: FleetInventory.VM) in swept[vm.name]?.status ?? "notSwept" }
        var counts: [String: Int] = [:]
        for vm in inventory.vms { counts[state(vm), default: 0] += 1 }

        let search = (query["q"] ?? "").trimmingWhitespace().lowercased()
        let group = query["group"].flatMap { inventory.groups[$0] == nil ? nil : $0 }
        let wanted = query["state"].flatMap { Self.vmStates.contains($0) ? $0 : nil }
        let shown = inventory.vms.filter { vm in
            (search.isEmpty || vm.name.lowercased().contains(search) || vm.address.lowercased().contains(search))
                && (group.map { vm.groups.contains($0) } ?? true) && (wanted.map { state(vm) == $0 } ?? true)
        }
        let rows = shown.map { vm in
            let sweep = swept[vm.name]
            let snapshot = snapshots[vm.name]
            return [
                HTML.vmLink(vm.name), HTML.escape(vm.address), vm.groups.map(HTML.groupLink).joined(separator: " "),
                HTML.badge(state(vm)), HTML.escape(sweep?.detail ?? ""), HTML.badge(sweep?.consistency ?? ""),
                snapshot.map {
                    "\(HTML.badge($0.status)) \(HTML.badge($0.consistency ?? "")) \(HTML.runLink($0.runId))"
                }
                    ?? "-",
                HTML.time(sweep?.finishedAt),
            ]
        }
        let summary = Self.vmStates.map { #"<span class="\#($0)">\#($0): <b>\#(counts[$0] ?? 0)</b></span>"# }
        return page(
            "Fleet",
            """
            <h1>Fleet: \(inventory.vms.count) VMs in \(inventory.groups.count) groups</h1>
            <p class="counts" id="counts">\(summary.joined(separator: " "))</p>
            <p>Inventory \(HTML.escape(fleetPath)); sweeps \(nextRun(inventory.sweepSchedule)).</p>
            <h2>Groups</h2>
            \(try await groupsTable())
            <h2>VMs</h2>
            \(filterForm(search: search, group: group, state: wanted))
            <p id="shown">Showing \(shown.count) of \(inventory.vms.count).</p>
            \(HTML.table(
                id: "vms",
                header: [
                    "VM", "Address", "Groups", "Compliance", "First problem", "Next snapshot would reach",
                    "Latest snapshot", "Swept",
                ],
                rows: rows))
            """)
    }

    private func groupsTable() async throws(HistoryError) -> String {
        var rows: [[String]] = []
        for name in groupNames {
            let group = inventory.groups[name]
            let members = inventory.vms.filter { $0.groups.contains(name) }.count
            let latest = try await store.runs(kind: .snapshot, group: name, limit: 1, reports: false).first
            rows.append([
                HTML.groupLink(name), "\(members)", nextRun(group?.schedule),
                latest.map { "\(HTML.runLink($0.id)) \(HTML.badge($0.status.rawValue)) \(HTML.time($0.endedAt))" }
                    ?? "never",
                HTML.badge(latest?.consistency ?? ""), HTML.milliseconds(latest?.freezeSkewMs),
            ])
        }
        return HTML.table(
            id: "groups", header: ["Group", "VMs", "Next run", "Latest snapshot", "Consistency", "Freeze skew"],
            rows: rows)
    }

    /// A GET form: it filters without any script.
    private func filterForm(search: String, group: String?, state: String?) -> String {
        func options(_ values: [String], selected: String?, all: String) -> String {
            ([#"<option value="">\#(all)</option>"#]
                + values.map { value in
                    #"<option value="\#(HTML.escape(value))"\#(value == selected ? " selected" : "")>"#
                        + "\(HTML.escape(value))</option>"
                }).joined()
        }
        let groupOptions = options(groupNames, selected: group, all: "every group")
        let stateOptions = options(Self.vmStates, selected: state, all: "every state")
        return """
            <form method="get" action="/" id="filter">
            <label>Name or address <input type="search" name="q" value="\(HTML.escape(search))"></label>
            <label>Group <select name="group">\(groupOptions)</select></label>
            <label>State <select name="state">\(stateOptions)</select></label>
            <button type="submit">Filter</button> <a href="/">clear</a>
            </form>
            """
    }
}
