import ArgumentParser
import QuiesceCoordinator

/// The end of a recorded run: its report as JSON, or as text with how to see it again; exit 1
/// unless it succeeded.
func conclude(_ run: Int64, _ report: some RecordedReport, json: Bool, text: () -> String) throws {
    if json {
        try printJSON(report)
    } else {
        print(text(), terminator: "")
        print("recorded as run \(run); `quiesce show \(run)` shows it again")
    }
    if !report.succeeded { throw ExitCode.failure }
}
