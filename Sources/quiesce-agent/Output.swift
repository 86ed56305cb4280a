import FoundationEssentials
import QuiesceAPI

/// Prints a report as JSON or as text, the one way every subcommand prints.
enum Output {
    static func print<Report: Encodable>(_ report: Report, json: Bool, text: (Report) -> String) throws {
        if json {
            let bytes = try QuiesceJSON.encode(report, pretty: true)
            Swift.print(String(decoding: bytes, as: UTF8.self))
        } else {
            Swift.print(text(report), terminator: "")
        }
    }
}
