import Foundation
import QuiesceAPI
import Testing

@testable import QuiesceCoordinator

extension HistoryOnEachDatabase {
    @Suite("History store")
    struct HistoryStoreTests {
        private struct Report: Codable { var note: String }

        @Test(arguments: HistoryBackend.allCases)
        func runsAreRecordedWithEachVMsResultAndFoundByVM(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let sweep = try await store.start(kind: .sweep, fleet: "/f.json", targets: 2)
                try await store.finish(
                    sweep, status: .failed, summary: "1 of 2 compliant", report: Report(note: "sweep"),
                    vms: [
                        HistoryVMResult(vm: "db-3", status: "nonCompliant", detail: "pre.sh is 0755"),
                        HistoryVMResult(vm: "db-1", status: "compliant", detail: ""),
                    ])
                let push = try await store.start(kind: .push, fleet: "/f.json", targets: 1)
                try await store.finish(
                    push, status: .succeeded, summary: "1 of 1", report: Report(note: "push"),
                    vms: [HistoryVMResult(vm: "db-1", status: "pushed", detail: "")],
                    pushed: [PushedFile(vm: "db-1", role: "preScript", sha256: "ab", pushedAt: Date())])

                #expect(try await store.runs().map(\.id) == [push, sweep], "newest first")
                #expect(try await store.runs(kind: .sweep).map(\.id) == [sweep])
                #expect(try await store.runs(vm: "db-3").map(\.id) == [sweep])
                #expect(try await store.results(of: sweep, vm: "db-3").first?.detail == "pre.sh is 0755")
                let recorded = try #require(try await store.run(sweep))
                #expect(recorded.status == .failed && recorded.report?.contains("\"note\":\"sweep\"") == true)
                #expect(try await store.expectedFiles(for: ["db-1", "db-3"])["db-1"]?["preScript"]?.sha256 == "ab")
                #expect(try await store.expectedFiles(for: ["db-1", "db-3"])["db-3"] == nil)
            }
        }

        @Test(arguments: HistoryBackend.allCases)
        func pruningDropsOldRunsButKeepsWhatWasLastPushed(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let push = try await store.start(kind: .push, fleet: "/f.json", targets: 1)
                try await store.finish(
                    push, status: .succeeded, summary: "1 of 1", report: Report(note: "push"),
                    vms: [HistoryVMResult(vm: "db-1", status: "pushed", detail: "")],
                    pushed: [PushedFile(vm: "db-1", role: "preScript", sha256: "ab", pushedAt: Date())])
                #expect(try await store.prune(startedBefore: Date().addingTimeInterval(-60)) == 0, "a fresh run stays")
                #expect(try await store.prune(startedBefore: Date().addingTimeInterval(60)) == 1)
                #expect(try await store.runs().isEmpty)
                #expect(try await store.results(of: push).isEmpty)
                #expect(try await store.expectedFiles(for: ["db-1"])["db-1"]?["preScript"]?.sha256 == "ab")
            }
        }

        @Test(arguments: HistoryBackend.allCases)
        func aRunWhoseProcessIsGoneReadsAsInterrupted(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let mine = try await store.start(kind: .snapshot, fleet: "/f.json", targets: 3)
                #expect(try await store.run(mine)?.status == .running, "this process is alive")
                let theirs = try await store.start(kind: .snapshot, fleet: "/f.json", targets: 3)
                try await store.markProcess(of: theirs, as: Int64(ChildProcessHelpers.deadProcessID()))
                let run = try #require(try await store.run(theirs))
                #expect(run.status == .interrupted)
                #expect(run.summary.contains("ended before the run finished"))
            }
        }

        @Test(arguments: HistoryBackend.allCases)
        func aRunKilledAfterItsResultsWereWrittenReadsAsInterruptedWithThem(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let run = try await store.start(kind: .sweep, fleet: "/f.json", targets: 1)
                try await store.markProcess(of: run, as: Int64(ChildProcessHelpers.deadProcessID()))
                // `record` writes the rows while it encodes the report, then completes the run.
                try await store.writeResults(
                    of: run, vms: [HistoryVMResult(vm: "db-1", status: "compliant", detail: "", consistency: nil)],
                    pushed: [], at: Date())

                let interrupted = try #require(try await store.run(run))
                #expect(interrupted.status == .interrupted && interrupted.report == nil)
                #expect(try await store.runs(vm: "db-1").map(\.id) == [run])
                #expect(try await store.latestResults(kind: .sweep)["db-1"]?.status == "compliant")
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
}

extension HistoryOnEachDatabase {
    @Suite("History store: run facts")
    struct HistoryRunFactsTests {
        private struct Report: Codable { var note: String }

        @Test(arguments: HistoryBackend.allCases)
        func finishedRunsKeepTheirFactsAndEachVMsLatestResult(backend: HistoryBackend) async throws {
            try await backend.withStore { store in try await check(store) }
        }

        private func check(_ store: HistoryStore) async throws {
            let first = try await store.start(kind: .snapshot, fleet: "/f.json", targets: 2)
            try await store.finish(
                first, status: .succeeded, summary: "db: succeeded", report: Report(note: "1"),
                vms: [
                    HistoryVMResult(vm: "db-1", status: "succeeded", detail: "", consistency: .applicationConsistent)
                ],
                facts: RunFacts(group: "db", consistency: .applicationConsistent, freezeSkewMs: 0.4, frozenMs: 12))
            let second = try await store.start(kind: .snapshot, fleet: "/f.json", targets: 2)
            try await store.finish(
                second, status: .failed, summary: "web: failed", report: Report(note: "2"),
                vms: [
                    HistoryVMResult(
                        vm: "web-1", status: "failed", detail: "freeze timed out", consistency: .crashConsistent)
                ],
                facts: RunFacts(group: "web", consistency: .crashConsistent))

            let db = try #require(try await store.runs(kind: .snapshot, group: "db", reports: false).first)
            #expect(
                db.id == first && db.consistency == "applicationConsistent" && db.freezeSkewMs == 0.4
                    && db.frozenMs == 12)
            #expect(db.report == nil, "listing without reports leaves them unread")
            #expect(try await store.runs(group: "web", status: .succeeded).isEmpty)
            let latest = try await store.latestResults(kind: .snapshot)
            #expect(latest["db-1"]?.runId == first && latest["db-1"]?.consistency == "applicationConsistent")
            #expect(latest["web-1"]?.status == "failed" && latest["web-1"]?.detail == "freeze timed out")
            #expect(try await store.latestResults(kind: .sweep).isEmpty)
        }
    }
}

extension HistoryOnEachDatabase {
    @Suite("History store: batched rows")
    struct HistoryBatchTests {
        private struct Report: Codable { var note: String }

        @Test(arguments: HistoryBackend.allCases)
        func aRunOfMoreVMsThanOneBatchKeepsEveryRowAndAFinishTriedAgainChangesNothing(
            backend: HistoryBackend
        ) async throws {
            try await backend.withStore { store in try await check(store) }
        }

        private func check(_ store: HistoryStore) async throws {
            // Two full batches and a part of a third.
            let names = (0..<(2 * SQLStatement.rowsPerInsert + 500)).map { "vm-\($0)" }
            let pushedAt = Date(timeIntervalSince1970: 1_796_400_000.25)
            let pushed = names.flatMap { vm in
                ["pluginConfig", "preScript", "postScript"].map {
                    PushedFile(vm: vm, role: $0, sha256: "\(vm)/\($0)", pushedAt: pushedAt)
                }
            }
            let vms = names.map { HistoryVMResult(vm: $0, status: "pushed", detail: "to \($0)", consistency: nil) }
            let run = try await store.start(kind: .push, fleet: "/f.json", targets: names.count)
            for _ in 1...2 {
                try await store.finish(
                    run, status: .succeeded, summary: "pushed", report: Report(note: "n"), vms: vms, pushed: pushed)
            }

            let latest = try await store.latestResults(kind: .push)
            #expect(latest.count == names.count)
            #expect(latest["vm-2499"]?.detail == "to vm-2499" && latest["vm-0"]?.runId == run)
            let files = try await store.lastPushed(to: names)
            #expect(files.count == names.count && files.values.allSatisfy { $0.count == 3 })
            #expect(files["vm-2100"]?["postScript"]?.sha256 == "vm-2100/postScript")
            #expect(files["vm-7"]?["preScript"]?.pushedAt == pushedAt)
            let recorded = try await store.runs(kind: .push, vm: "vm-2499")
            #expect(recorded.map(\.id) == [run])
        }
    }
}

@Suite("SQL statements")
struct SQLStatementTests {
    @Test func aBatchOfInsertsIsSentAsMultiRowValuesListsOfAtMostRowsPerInsert() {
        let rows = (0..<(SQLStatement.rowsPerInsert + 2)).map { [SQLValue.integer(Int64($0)), .text("v\($0)")] }
        let statement = SQLStatement(
            "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b", rows: rows)
        let batches = statement.batches
        #expect(batches.count == 2)
        #expect(batches[0].binds.count == 2 * SQLStatement.rowsPerInsert)
        #expect(
            batches[1].sql
                == "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) ON CONFLICT (a) DO UPDATE SET b = excluded.b")
        #expect(batches[1].binds == [.integer(1000), .text("v1000"), .integer(1001), .text("v1001")])
    }

    @Test func otherStatementsRunOncePerRowAsWritten() {
        let update = SQLStatement("UPDATE t SET b = ? WHERE a = ?", [.text("x"), .integer(1)])
        #expect(update.batches.map(\.sql) == ["UPDATE t SET b = ? WHERE a = ?"])
        let deletes = SQLStatement("DELETE FROM t WHERE a = ?", rows: [[.integer(1)], [.integer(2)]])
        #expect(deletes.batches.map(\.binds) == [[.integer(1)], [.integer(2)]])
    }
}

@Suite("History store: upgrade")
struct HistoryUpgradeTests {
    @Test func runsRecordedBeforeFactsExistedGetThemFromTheirReports() async throws {
        let directory = NSTemporaryDirectory() + "quiesce-history-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try SQLiteHistoryDatabase(directory: directory, migratingUpTo: "v3: events and their deliveries")
        let report =
            #"{"group":"db","consistency":"fileSystemConsistent","freezeSkewMs":1.5,"#
            + #""members":[{"name":"db-1","frozenMs":3},{"name":"db-2","frozenMs":7}]}"#
        try await old.transaction([
            SQLStatement(
                """
                INSERT INTO run (id, kind, startedAt, finishedAt, status, fleet, targets, summary, processId, report)
                VALUES (?, 'snapshot', ?, ?, 'succeeded', '/f.json', 2, 'ok', 1, ?)
                """, rows: [1, 2].map { [.integer($0), .date(Date()), .date(Date()), .text(report)] }),
            SQLStatement(
                "INSERT INTO runVM (runId, vm, status, detail) VALUES (?, ?, 'succeeded', '')",
                rows: [(1, "db-1"), (2, "db-1"), (2, "db-2")].map { [.integer($0), .text($1)] }),
        ])

        let store = try HistoryStore(directory: directory)
        let run = try #require(try await store.runs(group: "db").first)
        #expect(
            run.id == 2 && run.consistency == "fileSystemConsistent" && run.freezeSkewMs == 1.5 && run.frozenMs == 7)
        let latest = try await store.latestResults(kind: .snapshot)
        #expect(latest["db-1"]?.runId == 2 && latest["db-2"]?.runId == 2 && latest.count == 2)
    }
}

extension HistoryOnEachDatabase {
    @Suite("History store: coordinators' heartbeats")
    struct CoordinatorHeartbeatTests {
        @Test(arguments: HistoryBackend.allCases)
        func aRunOfACoordinatorSilentTooLongIsInterruptedAndOneAliveIsNot(backend: HistoryBackend) async throws {
            try await backend.withStore { store in try await check(store) }
        }

        private func check(_ store: HistoryStore) async throws {
            let now = Date()
            for (owner, minute) in [("quiet.example:42", 0.0), ("busy.example:7", 60), ("unknown.example:9", 120)] {
                try await store.recordNotRun(
                    ScheduledRun(
                        job: "snapshot/db", plannedAt: now.addingTimeInterval(minute), state: .running, owner: owner))
            }
            try await store.database.transaction([
                SQLStatement(
                    "INSERT INTO coordinator (owner, heartbeatAt) VALUES (?, ?)",
                    rows: [
                        [.text("quiet.example:42"), .date(now.addingTimeInterval(-60))],
                        [.text("busy.example:7"), .date(now.addingTimeInterval(-5))],
                    ])
            ])
            let interrupted = try await store.interruptAbandonedRuns(now: now, staleAfter: .seconds(20))
            #expect(interrupted.map(\.owner) == ["quiet.example:42"], "a coordinator never heard from is not judged")
            #expect(interrupted.first?.note.contains("fell silent") == true, "\(interrupted)")
            let states = try await store.scheduledRuns().reduce(into: [String: ScheduledRun.State]()) {
                $0[$1.owner] = $1.state
            }
            #expect(
                states == ["quiet.example:42": .interrupted, "busy.example:7": .running, "unknown.example:9": .running])
            try await store.finishScheduled("snapshot/db", plannedAt: now, state: .succeeded, runId: nil, note: "late")
            #expect(
                try await store.scheduledRuns().first { $0.owner == "quiet.example:42" }?.state == .interrupted,
                "a coordinator back from silence does not overwrite the verdict")
        }
    }
}

extension HistoryStore {
    /// Completes run `id` in one call, as `record` does in two halves around its encoding:
    /// `writeResults`, then `complete`.
    fileprivate func finish(
        _ id: Int64, status: HistoryRun.Status, summary: String, report: some Encodable & Sendable,
        vms: [HistoryVMResult], facts: RunFacts = RunFacts(), pushed: [PushedFile] = []
    ) async throws(HistoryError) {
        let now = Date()
        try await writeResults(of: id, vms: vms, pushed: pushed, at: now)
        try await complete(
            id, status: status, summary: summary, report: try Self.encoded(report, of: id).get(), facts: facts, at: now)
    }
}
