import Foundation
import QuiesceAPI

/// A report the history keeps: which kind of run it is, whether it succeeded, a one-line
/// summary and each VM's result. Each report type says so beside itself (`PushReport+History`).
public protocol RecordedReport: Encodable, Sendable {
    static var historyKind: HistoryRun.Kind { get }
    var succeeded: Bool { get }
    /// One line: the counts, or why it failed.
    var historySummary: String { get }
    var historyVMs: [HistoryVMResult] { get }
    /// The group, consistency and timings, for pages and `/metrics`.
    var historyFacts: RunFacts { get }
    /// What each VM has once the run is over, for a sweep to compare with: pushes only.
    func pushedFiles(at time: Date) -> [PushedFile]
}

extension RecordedReport {
    public func pushedFiles(at time: Date) -> [PushedFile] { [] }
    public var historyFacts: RunFacts { RunFacts() }
}

extension HistoryStore {
    /// Runs `work` as a run of the history: started first, so a coordinator killed meanwhile
    /// leaves a run that reads `interrupted` (and a store that cannot be written runs nothing),
    /// then finished with the report's own summary, patiently: the work has been done.
    public func record<Report: RecordedReport>(
        fleet: String, targets: Int, _ work: () async -> Report
    ) async throws(HistoryError) -> (run: Int64, report: Report) {
        let (run, report, _) = try await record(fleet: fleet, targets: targets, work, renderingAlongside: { _, _ in })
        return (run, report)
    }

    /// `record`, with `render` run on the report (and its compact JSON, as the history keeps it)
    /// while the history completes the run, for the command's output. The report is encoded
    /// once, while the rows of its VMs are written: at ten thousand VMs each of the three takes
    /// a tenth of a second, and none need wait for another on two cores.
    public func record<Report: RecordedReport, Rendered: Sendable>(
        fleet: String, targets: Int, _ work: () async -> Report,
        renderingAlongside render: @escaping @Sendable (Report, _ json: [UInt8]) -> Rendered
    ) async throws(HistoryError) -> (run: Int64, report: Report, rendered: Rendered) {
        let id = try await start(kind: Report.historyKind, fleet: fleet, targets: targets)
        let report = await work()
        let now = Date()
        let pushed = report.pushedFiles(at: now)
        async let encoded = Self.encoded(report, of: id)
        try await patiently { () async throws(HistoryError) in
            try await writeResults(of: id, vms: report.historyVMs, pushed: pushed, at: now)
        }
        let json = try await encoded.get()
        async let rendered = render(report, json)
        try await patiently { () async throws(HistoryError) in
            try await complete(
                id, status: report.succeeded ? .succeeded : .failed, summary: report.historySummary, report: json,
                facts: report.historyFacts, at: now)
        }
        return (id, report, await rendered)
    }

    /// `write`, tried again while it fails, 1, 2, 4... s apart for up to `patience`: the record of
    /// what was done outlives a database that is away for a while (PostgreSQL restarting, a
    /// network blip). The last error if it is still away.
    public func patiently<T>(
        _ patience: Duration = .seconds(120), _ write: () async throws(HistoryError) -> T
    ) async throws(HistoryError) -> T {
        let deadline = ContinuousClock.now + patience
        var pause = Duration.seconds(1)
        while true {
            do {
                return try await write()
            } catch {
                guard ContinuousClock.now + pause < deadline else { throw error }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(15))
            }
        }
    }
}

extension HistoryRun {
    /// The command's report as kept, read as `type`; nil when there is none or it is not one.
    public func decodedReport<Report: Decodable>(_ type: Report.Type) -> Report? {
        guard let report else { return nil }
        return try? QuiesceJSON.decode(type, from: report.utf8)
    }
}
