import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recorded pushes, sweeps and group snapshots, newest first.",
        discussion:
            "With --vm, only runs that touched that VM, with its own result in each: what did last night's sweep say "
            + "about db-3."
    )

    @OptionGroup var state: HistoryOptions

    @Option(help: "Only runs of this kind: \(HistoryRun.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: HistoryRun.Kind?

    @Option(help: "Only runs that touched this VM, with its result.")
    var vm: String?

    @Option(help: "How many runs to list.")
    var limit = 20

    @Option(
        help: "Delete the runs older than this many days instead of listing (a sweep of 1,000 VMs keeps about 0.5 MB).")
    var pruneDays: Int?

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        if let pruneDays, pruneDays < 0 { throw ValidationError("--prune-days must be 0 or more") }
    }

    func run() async throws {
        let history = try await state.history()
        if let pruneDays {
            let deleted = try await history.prune(startedBefore: Date().addingTimeInterval(-Double(pruneDays) * 86_400))
            if json {
                try printJSON(["deleted": deleted])
            } else {
                print("deleted \(deleted) runs older than \(pruneDays) days from \(history.location)")
            }
            return
        }
        let runs = try await history.runs(kind: kind, vm: vm, limit: limit)
        var results: [Int64: HistoryVMResult] = [:]
        if let vm { results = try await history.results(of: runs.compactMap(\.id), vm: vm) }
        if json {
            try printJSON(
                HistoryListing(runs: runs.map { HistoryListing.Run(run: $0, vmResult: $0.id.flatMap { results[$0] }) }))
        } else {
            print(HistoryRun.table(runs, vmResults: results, style: .detect()), terminator: "")
        }
    }
}

extension HistoryRun.Kind: ExpressibleByArgument {}

/// `quiesce history --json`: the runs without their full reports (`quiesce show` has those).
struct HistoryListing: Encodable {
    struct Run: Encodable {
        var id: Int64?
        var kind: HistoryRun.Kind
        var startedAt: Date
        var finishedAt: Date?
        var status: HistoryRun.Status
        var fleet: String
        var targets: Int
        var summary: String
        var vmResult: HistoryVMResult?

        init(run: HistoryRun, vmResult: HistoryVMResult?) {
            (id, kind, startedAt, finishedAt, status) = (run.id, run.kind, run.startedAt, run.finishedAt, run.status)
            (fleet, targets, summary, self.vmResult) = (run.fleet, run.targets, run.summary, vmResult)
        }
    }

    var runs: [Run]
}
