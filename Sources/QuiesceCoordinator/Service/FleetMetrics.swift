import Foundation
import QuiesceAPI

/// `quiesce serve`'s `/metrics`: the fleet's state in the Prometheus text format, read from the
/// history store's run facts and each VM's latest results (no report is decoded), so it says the
/// same after a restart and whichever coordinator answers.
///
/// Per group, of its latest snapshot: when it ran and last succeeded, its consistency (as a
/// number, 3 = application to 0 = none, and as a label), freeze skew and longest frozen time.
/// Per VM, of the latest sweep that reached it: reachable and compliant. Per scheduled job: runs by outcome and
/// the latest run's lateness. Events by kind, and their deliveries to webhooks by state.
public enum FleetMetrics {
    public static func render(store: HistoryStore, inventory: FleetInventory) async throws(HistoryError) -> String {
        var text = MetricsText()
        text.family(
            "quiesce_group_last_run_timestamp_seconds", .gauge, "When the group's latest snapshot run finished.")
        text.family(
            "quiesce_group_last_success_timestamp_seconds", .gauge,
            "When the group's latest successful snapshot finished.")
        text.family(
            "quiesce_group_last_consistency", .gauge,
            "Consistency of the group's latest snapshot: 3 application, 2 file system, 1 crash, 0 none.")
        text.family("quiesce_group_last_freeze_skew_seconds", .gauge, "Spread of the members' freeze instants.")
        text.family("quiesce_group_last_frozen_seconds", .gauge, "Longest time a member was frozen.")
        for group in inventory.groups.keys.sorted() {
            guard let latest = try await store.runs(kind: .snapshot, group: group, limit: 1, reports: false).first,
                latest.status != .running
            else { continue }
            let labels = ["group": group]
            text.sample("quiesce_group_last_run_timestamp_seconds", labels, latest.endedAt.seconds)
            if let success = try await store.runs(
                kind: .snapshot, group: group, status: .succeeded, limit: 1, reports: false
            )
            .first {
                text.sample("quiesce_group_last_success_timestamp_seconds", labels, success.endedAt.seconds)
            }
            if let consistency = latest.consistency.flatMap(Consistency.init(rawValue:)) {
                text.sample(
                    "quiesce_group_last_consistency", labels.merging(["consistency": consistency.rawValue]) { $1 },
                    Double(consistency.rank))
            }
            if let skew = latest.freezeSkewMs {
                text.sample("quiesce_group_last_freeze_skew_seconds", labels, skew / 1000)
            }
            if let frozen = latest.frozenMs {
                text.sample("quiesce_group_last_frozen_seconds", labels, frozen / 1000)
            }
        }
        text.family("quiesce_vm_reachable", .gauge, "Whether the latest sweep reached the VM's agent.")
        text.family("quiesce_vm_compliant", .gauge, "Whether the latest sweep found the VM compliant.")
        let swept = try await store.latestResults(kind: .sweep)
        for vm in inventory.vms.map(\.name).sorted() {
            guard let result = swept[vm] else { continue }
            text.sample("quiesce_vm_reachable", ["vm": vm], result.status == "unreachable" ? 0 : 1)
            text.sample("quiesce_vm_compliant", ["vm": vm], result.status == "compliant" ? 1 : 0)
        }
        text.family("quiesce_scheduled_runs_total", .counter, "Scheduled runs by job and outcome.")
        text.family(
            "quiesce_scheduled_run_lateness_seconds", .gauge,
            "How late the job's latest run started after its planned minute.")
        for (job, counts) in try await store.scheduledRunCounts().sorted(by: { $0.key < $1.key }) {
            for (state, count) in counts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                text.sample("quiesce_scheduled_runs_total", ["job": job, "state": state.rawValue], Double(count))
            }
            if let lateness = try await store.scheduledRuns(job: job, limit: 20).compactMap(\.lateness).first {
                text.sample("quiesce_scheduled_run_lateness_seconds", ["job": job], lateness / .seconds(1))
            }
        }
        let counts = try await store.eventCounts()
        text.family("quiesce_events_total", .counter, "Events raised, by kind.")
        for (kind, count) in counts.events.sorted(by: { $0.key < $1.key }) {
            text.sample("quiesce_events_total", ["kind": kind], Double(count))
        }
        text.family("quiesce_webhook_deliveries", .gauge, "Deliveries of events to webhooks, by state.")
        for (state, count) in counts.deliveries.sorted(by: { $0.key < $1.key }) {
            text.sample("quiesce_webhook_deliveries", ["state": state], Double(count))
        }
        return text.output
    }
}

/// The Prometheus text exposition format: `# HELP`, `# TYPE`, then samples with escaped labels.
struct MetricsText {
    enum Kind: String {
        case gauge
        case counter
    }

    private(set) var output = ""

    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        output += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }
        output += "\(name){\(rendered.joined(separator: ","))} \(Self.format(value))\n"
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

extension Date {
    fileprivate var seconds: Double { timeIntervalSince1970 }
}
