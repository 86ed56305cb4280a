import Synchronization

/// Counters exported at `/v1/metrics` in Prometheus text format.
public final class RequestMetrics: Sendable {
    private let requestsByStatus = Mutex<[UInt: Int]>([:])

    public init() {}

    func count(status: UInt) {
        requestsByStatus.withLock { $0[status, default: 0] += 1 }
    }

    /// The exposition text, one family per `# TYPE` line.
    func render() -> String {
        var lines = [
            "# HELP quiesce_agent_http_requests_total HTTP requests answered, by status code.",
            "# TYPE quiesce_agent_http_requests_total counter",
        ]
        for (status, count) in requestsByStatus.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            lines.append("quiesce_agent_http_requests_total{status=\"\(status)\"} \(count)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
