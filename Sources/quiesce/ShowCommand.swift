import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one recorded run again: its report as the command printed it, or one VM's part of it.",
        discussion: "Exits 2 when there is no such run or the VM is not in it."
    )

    @OptionGroup var state: HistoryOptions

    @Argument(help: ArgumentHelp("The run's number, from `quiesce history`.", valueName: "run"))
    var number: Int64

    @Option(help: "Only this VM's result.")
    var vm: String?

    @Flag(help: "Print the run and its whole report as one JSON object.")
    var json = false

    func run() async throws {
        let history = try await state.history()
        guard let record = try await history.run(number) else {
            throw UnusableInput(
                description:
                    "quiesce show: there is no run \(number) in \(history.location); `quiesce history` lists them")
        }
        // The whole report as JSON, for --json and --vm; the text view decodes it typed instead.
        let report = { try record.report.map { try JSONValue.parse(Array($0.utf8)) } }
        if json {
            try printJSON(
                RecordedRun(
                    listing: HistoryListing.Run(run: record, vmResult: nil),
                    report: try report().map { only(vm, in: $0) }))
            return
        }
        let style = TerminalStyle.detect()
        print(record.heading(style: style))
        if let vm {
            let results = try await history.results(of: number, vm: vm)
            guard let result = results.first else {
                throw UnusableInput(description: "quiesce show: run \(number) did not touch a VM named \(vm)")
            }
            print("\(vm): \(result.status)\(result.detail.isEmpty ? "" : "\n  \(result.detail)")")
            if let report = try report() {
                print(
                    String(decoding: try QuiesceJSON.encode(only(vm, in: report), pretty: true), as: UTF8.self))
            }
        } else if let text = try record.report.flatMap({ try text(of: record.kind, $0, style: style) }) {
            print(text, terminator: "")
        }
    }

    /// The report as the command printed it.
    private func text(of kind: HistoryRun.Kind, _ report: String, style: TerminalStyle) throws -> String? {
        let data = report.utf8
        switch kind {
        case .sweep: return try QuiesceJSON.decode(SweepReport.self, from: data).text(all: true, style: style)
        case .push: return try QuiesceJSON.decode(PushReport.self, from: data).text(style: style)
        case .snapshot: return try QuiesceJSON.decode(GroupSnapshotReport.self, from: data).text(style: style)
        case .prune: return try QuiesceJSON.decode(PruneReport.self, from: data).text()
        }
    }

    /// With `--vm`, the report's entry for that VM instead of the whole report.
    private func only(_ vm: String?, in report: JSONValue) -> JSONValue {
        guard let vm, case .object(let fields) = report else { return report }
        for key in ["vms", "members"] {
            if case .array(let entries)? = fields[key],
                let entry = entries.first(where: {
                    if case .object(let entry) = $0, case .string(vm)? = entry["name"] { true } else { false }
                })
            {
                return entry
            }
        }
        return report
    }
}

/// `quiesce show --json`.
struct RecordedRun: Encodable {
    var listing: HistoryListing.Run
    var report: JSONValue?

    func encode(to encoder: any Encoder) throws {
        try listing.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(report, forKey: .report)
    }

    private enum Key: String, CodingKey { case report }
}
