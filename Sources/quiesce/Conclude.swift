import ArgumentParser
import QuiesceAPI
import QuiesceCoordinator

/// How a recorded run's report reaches the terminal: pretty JSON, or `text`. Handed to
/// `HistoryStore.record(renderingAlongside:)`, so it is rendered while the history records the run.
func rendering<Report: RecordedReport>(
    json: Bool, text: @escaping @Sendable (Report) -> String
) -> @Sendable (Report) -> Result<String, any Error> {
    { report in
        json
            ? Result { String(decoding: try QuiesceJSON.encode(report, pretty: true), as: UTF8.self) }
            : .success(text(report))
    }
}

/// The end of a recorded run: its rendered report, as text followed by how to see it again;
/// exit 1 unless it succeeded.
func conclude(_ run: Int64, _ report: some RecordedReport, _ rendered: Result<String, any Error>, json: Bool) throws {
    if json {
        print(try rendered.get())
    } else {
        print(try rendered.get(), terminator: "")
        print("recorded as run \(run); `quiesce show \(run)` shows it again")
    }
    if !report.succeeded { throw ExitCode.failure }
}
