import Synchronization

/// The last few reports a page decoded (as `Report`: the whole report, or a group's timeline), by
/// run id. A finished run's report never changes, and decoding a 1,000-member one takes most of
/// its page's time, so a page someone is reading and reloading is decoded once.
final class DecodedReports<Report: Decodable & Sendable>: Sendable {
    private let capacity: Int
    private let recent = Mutex<[(run: Int64, report: Report)]>([])

    init(capacity: Int = 4) { self.capacity = capacity }

    func report(of run: HistoryRun) -> Report? {
        guard let id = run.id, run.status != .running else { return run.decodedReport(Report.self) }
        if let cached = recent.withLock({ $0.first { $0.run == id }?.report }) { return cached }
        guard let report = run.decodedReport(Report.self) else { return nil }
        recent.withLock { recent in
            recent.removeAll { $0.run == id }
            recent.insert((id, report), at: 0)
            if recent.count > capacity { recent.removeLast() }
        }
        return report
    }
}
