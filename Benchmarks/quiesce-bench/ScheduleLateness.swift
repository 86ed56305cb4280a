import Foundation
import QuiesceCoordinator
import QuiesceHTTPClient

// schedule-lateness: `quiesce serve` (its own process, as deployed) with 1,000 simulated agents
// in one group whose snapshot is scheduled every minute, and the fleet swept every minute, for
// `minutes` minutes; then each scheduled run's lateness (its start minus its planned minute) and
// length from the history store. Baseline in the same run: a second `quiesce serve` with a
// one-VM group on the same schedule, sharing the machine.

func scheduleLateness(minutes: Int) async {
    let agent = agentExecutable()
    let quiesce = URL(fileURLWithPath: agent).deletingLastPathComponent().appendingPathComponent("quiesce").path
    let work = shell(["mktemp", "-d", "/dev/shm/quiesce-schedule.XXXXXX"]).trimmingCharacters(
        in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let base = 20_000 + Int(getpid() % 10) * 1000
    let fleets = [(name: "fleet", count: 1000, base: base), (name: "baseline", count: 1, base: base + 1001)]
    var simulators: [SimulatedAgents] = []
    var services: [Process] = []
    defer {
        for service in services where service.isRunning { service.terminate() }
        for simulator in simulators { simulator.stop() }
    }
    let every = #"{"cron": "* * * * *", "timeZone": "UTC"}"#
    for fleet in fleets {
        let directory = "\(work)/\(fleet.name)"
        shell(["mkdir", "-p", directory])
        simulators.append(SimulatedAgents(agent: agent, count: fleet.count, base: fleet.base, work: directory))
        let vms = (0..<fleet.count).map {
            #"{"name": "vm-\#($0)", "address": "127.0.0.1:\#(fleet.base + $0)", "groups": ["g"]}"#
        }
        let (inventory, bundle) = writeBenchFleet(
            directory,
            inventory: #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 10}, "sweepSchedule": "#
                + #"\#(every), "groups": {"g": {"schedule": \#(every)}}, "vms": [\#(vms.joined(separator: ","))]}"#)
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 256), requestTimeout: .seconds(10))
        guard await Push.run(bundle, to: inventory.vms, canary: 0, agents: agents).succeeded else {
            fail("the push to the \(fleet.name) failed")
        }
        services.append(startServe(quiesce, directory: directory, port: fleet.base - 1))
    }
    // The first run is at the next minute; wait for `minutes` of them and the last one's end.
    let now = Date().timeIntervalSince1970
    let end = (now / 60).rounded(.down) * 60 + Double(minutes) * 60 + 45
    let back = Date(timeIntervalSince1970: end)
    print("schedule-lateness: \(minutes) minutes of runs planned every minute; back at \(back)")
    while Date().timeIntervalSince1970 < end { try? await Task.sleep(for: .seconds(5)) }
    for service in services {
        service.terminate()
        service.waitUntilExit()
    }
    for fleet in fleets {
        guard let store = try? HistoryStore(directory: "\(work)/\(fleet.name)/state") else {
            fail("cannot open the \(fleet.name)'s history")
        }
        for job in ["snapshot/g", "sweep"] {
            let runs = ((try? await store.scheduledRuns(job: job)) ?? []).filter { $0.state == .succeeded }
            guard !runs.isEmpty else { fail("no successful \(job) run for the \(fleet.name)") }
            let late = runs.compactMap(\.lateness).map { $0 / .milliseconds(1) }
            let length = runs.compactMap { run in
                run.finishedAt.flatMap { end in run.startedAt.map { end.timeIntervalSince($0) } }
            }
            print(
                String(
                    format: "  %@ of %d VM%@ (%d runs): lateness median %.1f ms, max %.1f ms; run median %.2f s",
                    job, fleet.count, fleet.count == 1 ? " (baseline)" : "s", runs.count, median(late),
                    late.max() ?? 0, median(length)))
        }
    }
}
