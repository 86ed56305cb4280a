import Foundation
import QuiesceCoordinator
import QuiesceHistoryPostgres
import QuiesceTestSupport
import Testing

/// Three `quiesce serve`, each as its own host (a UTS namespace with its own name), on one
/// private PostgreSQL: the one running a group snapshot is killed while every member is frozen.
/// A survivor, hearing no heartbeat from it, marks the run interrupted, releases the group (thaw
/// and post-scripts on every member) long before the agents' leases would, and the next planned
/// run is claimed by one survivor and succeeds. No planned run is run twice or lost.
@Suite(
    "quiesce serve: HA on PostgreSQL",
    .enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)),
    .enabled(if: HistoryPostgres.isInstalled || Privilege.isCI, "needs Debian's postgresql-15 (scripts/setup.sh)"))
struct CoordinatorHATests {
    @Test func aSurvivorOnAnotherHostTakesOverTheDeadLeadersGroupAndSchedule() async throws {
        let postgres = try await HistoryPostgres.start()
        defer { postgres.stop() }
        let database = try await HistoryPostgres.open(postgres.url)
        let store = HistoryStore(database: database)
        // a0's snapshot is slow: a1 and a2 are frozen, waiting for the cut, when the leader dies.
        let fleet = try await SimulatedFleet(
            count: 3, faults: #"{"agents": {"0": {"latencyMs": {"snapshot": 10000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try await fleet.scheduledAndPushed(count: 3, store: postgres.url)
        var coordinators: [CoordinatorService] = []
        for host in ["coord-a", "coord-b", "coord-c"] {
            coordinators.append(
                try await CoordinatorService.start(
                    fleet, inventory: inventory, catchingUp: coordinators.isEmpty ? ["snapshot/all"] : [],
                    shared: (postgres.url, store), host: host))
        }
        defer { for coordinator in coordinators { _ = coordinator.stop() } }

        var claimed: ScheduledRun?
        let frozen = await eventually(within: 30, every: .milliseconds(200)) {
            claimed = try? await store.scheduledRuns(job: "snapshot/all").first { $0.state == .running }
            guard let session = claimed?.session else { return false }
            for index in 1...2 {
                let version = try? await fleet.agent(index).send("GET", "/v1/version", token: SimulatedFleet.token)
                    .json()
                guard version?["activeSession"] as? String == session, version?["frozen"] as? Bool == true else {
                    return false
                }
            }
            return true
        }
        #expect(frozen, "a run claimed, a1 and a2 frozen in its session")
        let run = try #require(claimed)
        let leader = try #require(
            coordinators.first { run.owner == "coord-\($0.hostLetter(of: coordinators)):\($0.pid)" }, "\(run.owner)")
        kill(leader.pid, SIGKILL)
        let killedAt = Date()

        var interrupted: ScheduledRun?
        let released = await eventually(within: 45, every: .milliseconds(250)) {
            interrupted = try? await store.scheduledRuns(job: "snapshot/all").first {
                $0.plannedAt == run.plannedAt && $0.state == .interrupted
            }
            guard interrupted != nil else { return false }
            for index in 0..<3 {
                let version = try? await fleet.agent(index).send("GET", "/v1/version", token: SimulatedFleet.token)
                    .json()
                guard version?["activeSession"] == nil, version?["frozen"] as? Bool == false else { return false }
            }
            return true
        }
        let takeover = Date().timeIntervalSince(killedAt)
        print("HA on PostgreSQL: the group was released \(String(format: "%.1f", takeover)) s after its leader died")
        #expect(released, "interrupted and every member thawed and out of the session after the kill")
        #expect(takeover < 40, "within heartbeat staleness (20 s) and a heartbeat (5 s), before the agents' leases")
        #expect(
            interrupted?.note.contains("fell silent") == true, "judged by its heartbeat: \(interrupted?.note ?? "")")
        let history = try await store.runs(kind: .snapshot, reports: false)
        #expect(
            history.first { $0.owner == run.owner }?.status == .interrupted,
            "the leader's history run is interrupted too: \(history.map { "\($0.owner ?? "") \($0.status)" })")

        // The schedule goes on: the next planned minute is claimed by one survivor and succeeds.
        var next: ScheduledRun?
        let tookNext = await eventually(within: 90, every: .seconds(1)) {
            next = try? await store.scheduledRuns(job: "snapshot/all").first {
                $0.plannedAt > run.plannedAt && $0.state == .succeeded
            }
            return next != nil
        }
        let survivors = coordinators.filter { $0.pid != leader.pid }
        let logs = survivors.map { $0.stop() }.joined(separator: "\n---\n")
        #expect(tookNext, "a later planned run succeeded\n\(logs)")
        #expect(next.map { !$0.owner.hasPrefix(run.owner) } == true, "run by a survivor: \(next?.owner ?? "")")
        #expect(logs.contains("released: finished on its 3 members"), "\(logs)")
        #expect(try await store.events().contains { $0.kind == .snapshotInterrupted }, "\(logs)")

        // Each planned minute has one row and at most one history run: none ran twice, none vanished.
        // (The row the test wrote as the minute before the first is not a run.)
        let rows = try await store.scheduledRuns(job: "snapshot/all", limit: 100).filter { $0.owner != "x:1" }
        #expect(Set(rows.map(\.plannedAt)).count == rows.count)
        let runIds = rows.compactMap(\.runId)
        #expect(Set(runIds).count == runIds.count, "no history run is two planned runs'")
        let started = try await store.runs(kind: .snapshot, limit: 100, reports: false)
        #expect(
            started.count == rows.filter { [.succeeded, .failed, .interrupted].contains($0.state) }.count,
            "one history run per planned run that started: \(started.count) for \(rows.map(\.state))")
        let listed = try await fleet.coordinator(["history", "--store", postgres.url, "--json"])
        #expect(listed.status == 0 && listed.stdout.contains("\"interrupted\""), "quiesce history reads the same store")
        await database.close()
    }
}

/// The database goes away while a scheduled group snapshot runs: the snapshot finishes on the
/// agents, and its record, held by the coordinator, is written once PostgreSQL is back. No run
/// record is lost, and none is left `running`.
@Suite(
    "quiesce serve: PostgreSQL away for a while",
    .enabled(if: HistoryPostgres.isInstalled || Privilege.isCI, "needs Debian's postgresql-15 (scripts/setup.sh)"))
struct CoordinatorStoreOutageTests {
    @Test func aRunWhileTheDatabaseIsAwayIsRecordedWhenItIsBack() async throws {
        let postgres = try await HistoryPostgres.start()
        defer { postgres.stop() }
        let database = try await HistoryPostgres.open(postgres.url)
        let store = HistoryStore(database: database)
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"latencyMs": {"prepare": 5000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try await fleet.scheduledAndPushed(count: 2, store: postgres.url)
        let service = try await CoordinatorService.start(
            fleet, inventory: inventory, catchingUp: ["snapshot/all"], shared: (postgres.url, store))
        // Under way: claimed, its session noted and its history run started (a run is never
        // started without its record, so the database goes away only after that).
        var running: ScheduledRun?
        let started = await eventually(within: 30, every: .milliseconds(100)) {
            running = try? await store.scheduledRuns(job: "snapshot/all").first { $0.state == .running }
            guard running?.session != nil else { return false }
            return (try? await store.runs(kind: .snapshot, status: .running, reports: false))?.isEmpty == false
        }
        #expect(started, "a run under way")
        let run = try #require(running)
        // Away from while a0 prepares until after the run has ended on the agents.
        try await postgres.restart(after: .seconds(8))

        var finished: ScheduledRun?
        // A stuck connection pool gets no answer for 30 s before it is replaced.
        let recorded = await eventually(within: 120, every: .milliseconds(500)) {
            finished = try? await store.scheduledRuns(job: "snapshot/all").first {
                $0.plannedAt == run.plannedAt && $0.state != .running
            }
            return finished != nil
        }
        // The dashboard and /metrics read the same PostgreSQL.
        let page = try await service.client.send("GET", "/runs/\(finished?.runId ?? 0)")
        let metrics = try await service.client.send("GET", "/metrics")
        let log = service.stop()
        #expect(recorded, "the run's outcome recorded once the database is back\n\(log)")
        #expect(
            page.status == 200 && page.text.contains("applicationConsistent"), "\(page.status) \(page.text.prefix(300))"
        )
        #expect(
            metrics.text.contains(
                #"quiesce_group_last_consistency{consistency="applicationConsistent",group="all"} 3"#),
            "\(metrics.text)")
        #expect(finished?.state == .succeeded, "\(finished.map { "\($0)" } ?? "") \(log)")
        let runId = try #require(finished?.runId, "\(log)")
        let history = try #require(try await store.run(runId))
        #expect(history.status == .succeeded && history.report != nil, "\(history.summary)")
        #expect(try await store.results(of: runId).count == 2)
        await database.close()
    }
}

extension SimulatedFleet {
    /// An inventory of its first `count` VMs in group `all`, snapshotted every minute, with the
    /// plugin config and scripts pushed and the push recorded at `store`.
    fileprivate func scheduledAndPushed(count: Int, store: String) async throws -> String {
        let inventory = try inventory(count: count, group: #"{"schedule": {"cron": "* * * * *", "timeZone": "UTC"}}"#)
        let files = try PushCommandTests.Files(self)
        let push = try await coordinator(["push", "--fleet", inventory, "--store", store] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        return inventory
    }
}

extension CoordinatorService {
    var pid: Int32 { process.process.processIdentifier }

    /// `a`, `b` or `c`: its place among the coordinators, as in its host name.
    func hostLetter(of all: [CoordinatorService]) -> String {
        let index = all.firstIndex { $0.port == port } ?? 0
        return String(UnicodeScalar(UInt8(97 + index)))
    }
}
