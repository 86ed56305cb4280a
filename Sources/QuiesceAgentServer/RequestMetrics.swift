import QuiesceAPI
import Synchronization

/// Counters exported at `/v1/metrics` in Prometheus text format: requests by status, sessions by
/// outcome, script durations and frozen time.
public final class RequestMetrics: Sendable {
    private struct Counts {
        var requestsByStatus: [UInt: Int] = [:]
        var sessionsByOutcome: [String: Int] = [:]
        var scriptSeconds: [String: Double] = [:]
        var scriptRuns: [String: Int] = [:]
        var frozenSeconds = 0.0
        var freezes = 0
    }

    private let counts = Mutex(Counts())

    public init() {}

    public func count(status: UInt) {
        counts.withLock { $0.requestsByStatus[status, default: 0] += 1 }
    }

    /// Records a finished session's outcome, its scripts' run time and its frozen time.
    public func record(_ session: SessionState) {
        let report = session.report
        counts.withLock { counts in
            counts.sessionsByOutcome["\(report.status.rawValue)/\(report.consistency.rawValue)", default: 0] += 1
            for plugin in report.plugins {
                for phase in ScriptPhase.allCases where plugin.script(phase).attempts > 0 {
                    counts.scriptSeconds[phase.rawValue, default: 0] += plugin.script(phase).durationMs / 1000
                    counts.scriptRuns[phase.rawValue, default: 0] += 1
                }
            }
            if let frozenMs = report.freeze.frozenMs {
                counts.frozenSeconds += frozenMs / 1000
                counts.freezes += 1
            }
        }
    }

    /// The exposition text, one family per `# TYPE` line.
    func render() -> String {
        let counts = counts.withLock { $0 }
        var lines = [
            "# HELP quiesce_agent_http_requests_total HTTP requests answered, by status code.",
            "# TYPE quiesce_agent_http_requests_total counter",
        ]
        for (status, count) in counts.requestsByStatus.sorted(by: { $0.key < $1.key }) {
            lines.append("quiesce_agent_http_requests_total{status=\"\(status)\"} \(count)")
        }
        lines += [
            "# HELP quiesce_agent_sessions_total Snapshot sessions finished, by status and consistency.",
            "# TYPE quiesce_agent_sessions_total counter",
        ]
        for (outcome, count) in counts.sessionsByOutcome.sorted(by: { $0.key < $1.key }) {
            let parts = outcome.split(separator: "/")
            lines.append("quiesce_agent_sessions_total{status=\"\(parts[0])\",consistency=\"\(parts[1])\"} \(count)")
        }
        lines += [
            "# HELP quiesce_agent_script_seconds Time pre- and post-scripts ran, all tries together.",
            "# TYPE quiesce_agent_script_seconds summary",
        ]
        for phase in counts.scriptRuns.keys.sorted() {
            lines.append("quiesce_agent_script_seconds_sum{phase=\"\(phase)\"} \(counts.scriptSeconds[phase] ?? 0)")
            lines.append("quiesce_agent_script_seconds_count{phase=\"\(phase)\"} \(counts.scriptRuns[phase] ?? 0)")
        }
        lines += [
            "# HELP quiesce_agent_frozen_seconds Time file systems were frozen, first FIFREEZE to last FITHAW.",
            "# TYPE quiesce_agent_frozen_seconds summary",
            "quiesce_agent_frozen_seconds_sum \(counts.frozenSeconds)",
            "quiesce_agent_frozen_seconds_count \(counts.freezes)",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
