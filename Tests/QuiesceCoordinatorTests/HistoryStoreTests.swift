import Foundation
import QuiesceCoordinator
import Testing

@Suite("History store")
struct HistoryStoreTests {
    private struct Report: Codable { var note: String }

    private func withStore(_ body: (HistoryStore) throws -> Void) throws {
        let directory = NSTemporaryDirectory() + "quiesce-history-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(try HistoryStore(directory: directory))
    }

    @Test func runsAreRecordedWithEachVMsResultAndFoundByVM() throws {
        try withStore { store in
            let sweep = try store.start(kind: .sweep, fleet: "/f.json", targets: 2)
            try store.finish(
                sweep, status: .failed, summary: "1 of 2 compliant", report: Report(note: "sweep"),
                vms: [
                    HistoryVMResult(vm: "db-3", status: "nonCompliant", detail: "pre.sh is 0755"),
                    HistoryVMResult(vm: "db-1", status: "compliant", detail: ""),
                ])
            let push = try store.start(kind: .push, fleet: "/f.json", targets: 1)
            try store.finish(
                push, status: .succeeded, summary: "1 of 1", report: Report(note: "push"),
                vms: [HistoryVMResult(vm: "db-1", status: "pushed", detail: "")],
                pushed: [PushedFile(vm: "db-1", role: "preScript", sha256: "ab", pushedAt: Date())])

            #expect(try store.runs().map(\.id) == [push, sweep], "newest first")
            #expect(try store.runs(kind: .sweep).map(\.id) == [sweep])
            #expect(try store.runs(vm: "db-3").map(\.id) == [sweep])
            #expect(try store.results(of: sweep, vm: "db-3").first?.detail == "pre.sh is 0755")
            let recorded = try #require(try store.run(sweep))
            #expect(recorded.status == .failed && recorded.report?.contains("\"note\":\"sweep\"") == true)
            #expect(try store.expectedFiles(for: ["db-1", "db-3"])["db-1"]?["preScript"]?.sha256 == "ab")
            #expect(try store.expectedFiles(for: ["db-1", "db-3"])["db-3"] == nil)
        }
    }

    @Test func pruningDropsOldRunsButKeepsWhatWasLastPushed() throws {
        try withStore { store in
            let push = try store.start(kind: .push, fleet: "/f.json", targets: 1)
            try store.finish(
                push, status: .succeeded, summary: "1 of 1", report: Report(note: "push"),
                vms: [HistoryVMResult(vm: "db-1", status: "pushed", detail: "")],
                pushed: [PushedFile(vm: "db-1", role: "preScript", sha256: "ab", pushedAt: Date())])
            #expect(try store.prune(startedBefore: Date().addingTimeInterval(-60)) == 0, "a fresh run stays")
            #expect(try store.prune(startedBefore: Date().addingTimeInterval(60)) == 1)
            #expect(try store.runs().isEmpty && store.results(of: push).isEmpty)
            #expect(try store.expectedFiles(for: ["db-1"])["db-1"]?["preScript"]?.sha256 == "ab")
        }
    }

    @Test func aRunWhoseProcessIsGoneReadsAsInterrupted() throws {
        try withStore { store in
            let mine = try store.start(kind: .snapshot, fleet: "/f.json", targets: 3)
            #expect(try store.run(mine)?.status == .running, "this process is alive")
            // A child that has exited and been reaped stands in for a coordinator that was killed.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/bin/true")
            try child.run()
            child.waitUntilExit()
            let theirs = try store.start(kind: .snapshot, fleet: "/f.json", targets: 3)
            try store.markProcess(of: theirs, as: Int64(child.processIdentifier))
            let run = try #require(try store.run(theirs))
            #expect(run.status == .interrupted)
            #expect(run.summary.contains("ended before the run finished"))
        }
    }

    @Test func anUnwritableStateDirectoryIsNamed() {
        #expect(throws: HistoryError.self) { try HistoryStore(directory: "/proc/quiesce-cannot-be-here") }
        do {
            _ = try HistoryStore(directory: "/proc/quiesce-cannot-be-here")
        } catch {
            #expect(error.message.contains("/proc/quiesce-cannot-be-here") && error.message.contains("--state"))
        }
    }
}
