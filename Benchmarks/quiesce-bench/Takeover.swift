import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceDemo
import QuiesceHTTPClient
import QuiesceHistoryPostgres

// takeover: two `quiesce serve` (their own processes, as deployed) on one history store and 10
// simulated agents in one group, whose first agent prepares slowly (8 s) so that a run is under
// way with the others' sessions open; the coordinator that claimed it is killed (SIGKILL). The
// figures: from the kill to the run marked interrupted by the survivor, and to the group released
// (no member holding the session). Baseline in the same run: the same kill with no survivor, so
// the agents' leases release the group (a lease of freeze + snapshot deadlines + 5 s: 20 s here,
// 75 s with the default deadlines that the PostgreSQL variant keeps).
//
// With `postgresql` (root): the coordinators share a private PostgreSQL on loopback and each runs
// as a host of its own (a UTS namespace with its own name), so the survivor cannot see the
// leader's process: it judges by the leader's silence (heartbeats every 5 s, stale after 20 s).

func takeover(runs: Int, postgresql: Bool) async {
    let agent = agentExecutable()
    let quiesce = URL(fileURLWithPath: agent).deletingLastPathComponent().appendingPathComponent("quiesce").path
    let server = postgresql ? BenchPostgres.start() : nil
    defer { server?.stop() }
    var interrupted: [Double] = []
    var released: [Double] = []
    var byLease: [Double] = []
    for run in 0..<runs {
        for survivor in [true, false] {
            let store = server.map { $0.newDatabase() }
            let result = await killTheLeader(
                agent: agent, quiesce: quiesce, survivor: survivor, run: run, store: store)
            if survivor {
                interrupted.append(result.interrupted ?? .nan)
                released.append(result.released)
            } else {
                byLease.append(result.released)
            }
        }
    }
    let shared =
        postgresql ? ", coordinators as hosts of their own on PostgreSQL" : ", coordinators on one SQLite store"
    print("takeover: median of \(runs) kills of the coordinator running a 10-member group snapshot\(shared)")
    print(String(format: "  run marked interrupted by the survivor  %6.2f s", median(interrupted)))
    print(
        String(
            format: "  group released by the survivor         %6.2f s (%.1fx faster than by the leases)",
            median(released), median(byLease) / median(released)))
    print(String(format: "  baseline: group released by the leases %6.2f s (no survivor)", median(byLease)))
}

private func killTheLeader(agent: String, quiesce: String, survivor: Bool, run: Int, store url: String?) async
    -> (interrupted: Double?, released: Double)
{
    let work = shell(["mktemp", "-d", "/dev/shm/quiesce-takeover.XXXXXX"]).trimmingCharacters(
        in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let base = 20_000 + Int(getpid() % 10) * 1000
    let simulators = SimulatedAgents(
        agent: agent, count: 10, base: base, work: work, faults: #"{"agents": {"0": {"latencyMs": {"prepare": 8000}}}}"#
    )
    defer { simulators.stop() }
    let vms = (0..<10).map { #"{"name": "vm-\#($0)", "address": "127.0.0.1:\#(base + $0)", "groups": ["g"]}"# }
    // Across hosts the survivor waits out 20 s of silence: shortened leases (20 s) would be no
    // baseline, so the default deadlines (a 75 s lease) stay.
    let deadlines = url == nil ? #", "deadlines": {"freezeSeconds": 5, "snapshotSeconds": 10}"# : ""
    let (inventory, bundle) = writeBenchFleet(
        work,
        inventory: #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 10}, "groups": {"g": {"#
            + #""schedule": {"cron": "* * * * *", "timeZone": "UTC"}\#(deadlines)}}, "#
            + #""vms": [\#(vms.joined(separator: ","))]}"#)
    let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 16), requestTimeout: .seconds(10))
    guard await Push.run(bundle, to: inventory.vms, canary: 0, agents: agents).succeeded,
        let store = await openStore(url, directory: "\(work)/state")
    else { fail("cannot prepare the takeover's fleet") }
    // Planned two minutes ago and done: the minute since is a catch-up run that starts at once.
    let minute = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60
    _ = try? await store.recordNotRun(
        ScheduledRun(
            job: "snapshot/g", plannedAt: Date(timeIntervalSince1970: minute - 60), state: .succeeded, owner: "x:1"))
    var services: [Process] = []
    defer {
        for service in services where service.isRunning {
            service.terminate()
            service.waitUntilExit()
        }
    }
    for index in 0..<(survivor ? 2 : 1) {
        services.append(
            startServe(
                quiesce, directory: work, port: base - 1 - index, store: url, host: url.map { _ in "coord-\(index)" }))
    }
    let member = inventory.vms[1]
    func activeSession() async -> String? {
        if case .success(let version) = await agents.get(AgentVersion.self, AgentRoutes.version, from: member) {
            return version.activeSession
        }
        return nil
    }
    let deadline = Date().addingTimeInterval(30)
    var claimed: ScheduledRun?
    while Date() < deadline {
        claimed = (try? await store.scheduledRuns(job: "snapshot/g"))?.first {
            $0.state == .running && $0.session != nil
        }
        if let session = claimed?.session, await activeSession() == session { break }
        claimed = nil
        try? await Task.sleep(for: .milliseconds(20))
    }
    guard let claimed, let leader = services.first(where: { claimed.owner.hasSuffix(":\($0.processIdentifier)") })
    else { fail("run \(run): no run under way with its session open within 30 s") }
    kill(leader.processIdentifier, SIGKILL)
    let killedAt = ContinuousClock.now
    var interruptedAfter: Double?
    while ContinuousClock.now - killedAt < .seconds(120) {
        if interruptedAfter == nil,
            (try? await store.scheduledRuns(job: "snapshot/g"))?.first(where: { $0.plannedAt == claimed.plannedAt })?
                .state
                == .interrupted
        {
            interruptedAfter = (ContinuousClock.now - killedAt) / .seconds(1)
        }
        if await activeSession() == nil { return (interruptedAfter, (ContinuousClock.now - killedAt) / .seconds(1)) }
        try? await Task.sleep(for: .milliseconds(20))
    }
    fail("run \(run): the group was not released within 120 s of the kill")
}

/// The history at `url`, or in `directory` without one.
private func openStore(_ url: String?, directory: String) async -> HistoryStore? {
    guard let url else { return try? HistoryStore(directory: directory) }
    guard let parsed = try? PostgresStoreURL(url), let database = try? await PostgresHistoryDatabase(parsed) else {
        return nil
    }
    return HistoryStore(database: database)
}

/// A private PostgreSQL on a loopback port for the benchmark, a database per kill.
struct BenchPostgres {
    let directory: String
    let server: PostgreSQLCluster
    private static let password = "bench-secret"

    static func start() -> BenchPostgres {
        guard PostgreSQLCluster.isInstalled, geteuid() == 0 else {
            fail("takeover postgresql: needs root and Debian's postgresql-15 (scripts/setup.sh)")
        }
        let directory = shell(["mktemp", "-d", "/tmp/quiesce-bench-pg.XXXXXX"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        chmod(directory, 0o711)
        do {
            let server = try PostgreSQLCluster(
                dataDirectory: "\(directory)/data", runDirectory: "\(directory)/run", settings: ["fsync=off"],
                port: 5_433 + Int(getpid() % 1000))
            return BenchPostgres(directory: directory, server: server)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            fail("cannot start PostgreSQL: \(error)")
        }
    }

    func newDatabase() -> String {
        let name = "bench_\(UUID().uuidString.prefix(8).lowercased())"
        do {
            try server.createOwnedDatabase(name, role: "quiesce", password: Self.password)
        } catch {
            fail("cannot create database \(name): \(error)")
        }
        return "postgresql://quiesce:\(Self.password)@127.0.0.1:\(server.port)/\(name)?sslmode=disable"
    }

    func stop() {
        server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
