import ArgumentParser
import QuiesceAPI
import QuiesceCoordinator

/// How a recorded run's report reaches the terminal: its JSON laid out, or `text`. Handed to
/// `HistoryStore.record(renderingAlongside:)`, so it is rendered while the history records the
/// run, from the JSON the history keeps.
func rendering<Report: RecordedReport>(
    json: Bool, text: @escaping @Sendable (Report) -> String
) -> @Sendable (Report, [UInt8]) -> String {
    { report, encoded in json ? String(decoding: QuiesceJSON.indented(encoded), as: UTF8.self) : text(report) }
}

/// The end of a recorded run: its rendered report, as text followed by how to see it again;
/// exit 1 unless it succeeded.
func conclude(_ run: Int64, _ report: some RecordedReport, _ rendered: String, json: Bool) throws {
    if json {
        print(rendered)
    } else {
        print(rendered, terminator: "")
        print("recorded as run \(run); `quiesce show \(run)` shows it again")
    }
    if !report.succeeded { throw ExitCode.failure }
}
