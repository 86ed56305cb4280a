import Foundation
import QuiesceCoordinator
import QuiesceHTTPClient

// dashboard-pages: `quiesce serve` (its own process, as deployed) showing the history of a
// 1,000-VM fleet: 1,000 simulated agents in ten groups of 100 and one group of all, pushed to,
// swept three times, each group of 100 snapshotted three times and the group of all twice, for
// real. Each page is fetched once cold, then `runs` times over loopback; the figure is the median
// time to its last byte, beside the cold one. Baseline in the same run: the same pages of a 10-VM
// fleet built the same way.

func dashboardPages(runs: Int) async {
    let agent = agentExecutable()
    let quiesce = URL(fileURLWithPath: agent).deletingLastPathComponent().appendingPathComponent("quiesce").path
    let work = shell(["mktemp", "-d", "/dev/shm/quiesce-dashboard.XXXXXX"]).trimmingCharacters(
        in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let base = 20_000 + Int(getpid() % 10) * 1000
    let client = CurlClient(maxConcurrentTransfers: 4)
    var results: [String: [String: (median: Double, first: Double, bytes: Int)]] = [:]
    var pages: [(label: String, path: String)] = []
    for fleet in [(name: "fleet", count: 1000), (name: "baseline", count: 10)] {
        let directory = "\(work)/\(fleet.name)"
        shell(["mkdir", "-p", directory])
        let paths = await recordHistory(count: fleet.count, base: base, agent: agent, directory: directory)
        pages = paths
        let service = startServe(quiesce, directory: directory, port: base - 1)
        defer {
            service.terminate()
            service.waitUntilExit()
        }
        while !answers(port: base - 1, path: "/v1/health") { usleep(20_000) }
        for page in paths {
            var times: [Double] = []
            var bytes = 0
            for _ in 0...runs {
                let start = ContinuousClock.now
                guard
                    let response = try? await client.send(
                        HTTPClientRequest(method: "GET", url: "http://127.0.0.1:\(base - 1)\(page.path)")),
                    response.status == 200
                else { fail("GET \(page.path) did not answer 200") }
                times.append((ContinuousClock.now - start) / .milliseconds(1))
                bytes = response.body.count
            }
            // The first fetch is the page's cold time: SQLite's cache and the decoded-report cache
            // of the run page are empty. The median is of the others, as a page reloaded is.
            results[page.label, default: [:]][fleet.name] = (median(Array(times.dropFirst())), times[0], bytes)
        }
    }
    print("dashboard-pages: median of \(runs) fetches after a first (cold) one, 1,000 VMs against 10")
    for page in pages {
        guard let fleet = results[page.label]?["fleet"], let baseline = results[page.label]?["baseline"] else {
            continue
        }
        let label = page.label.padding(toLength: 32, withPad: " ", startingAt: 0)
        print(
            label
                + String(
                    format: " %7.2f ms (first %6.2f ms, %7d bytes)   baseline %5.2f ms   %5.1fx", fleet.median,
                    fleet.first, fleet.bytes, baseline.median, fleet.median / baseline.median))
    }
}

/// Simulates `count` agents, records their history in `directory/state`, and stops them; returns
/// the pages to fetch.
private func recordHistory(count: Int, base: Int, agent: String, directory: String) async
    -> [(label: String, path: String)]
{
    let simulators = SimulatedAgents(agent: agent, count: count, base: base, work: directory)
    defer { simulators.stop() }
    let perGroup = count / 10
    let vms = (0..<count).map {
        #"{"name": "vm-\#($0)", "address": "127.0.0.1:\#(base + $0)", "groups": ["g\#($0 / perGroup)", "all"]}"#
    }
    let groups = (0..<10).map { #""g\#($0)": {}"# } + [#""all": {}"#]
    let (inventory, bundle) = writeBenchFleet(
        directory,
        inventory: #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 10}, "#
            + #""groups": {\#(groups.joined(separator: ", "))}, "vms": [\#(vms.joined(separator: ","))]}"#)
    guard let store = try? HistoryStore(directory: "\(directory)/state") else {
        fail("cannot open the history in \(directory)/state")
    }
    let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 256), requestTimeout: .seconds(10))
    let fleetPath = "\(directory)/fleet.json"
    do {
        _ = try await store.record(fleet: fleetPath, targets: count) {
            await Push.run(bundle, to: inventory.vms, canary: 0, agents: agents)
        }
        for _ in 0..<3 {
            _ = try await store.record(fleet: fleetPath, targets: count) {
                await Sweep.run(
                    inventory.vms, agents: agents,
                    expected: { try await store.expectedFiles(for: inventory.vms.map(\.name)) })
            }
        }
        for (name, times) in (0..<10).map({ ("g\($0)", 3) }) + [("all", 2)] {
            guard let group = inventory.groups[name] else { continue }
            let members = inventory.vms.filter { $0.groups.contains(name) }
            for _ in 0..<times {
                _ = try await store.record(fleet: fleetPath, targets: members.count) {
                    await GroupSnapshot(group: group, members: members, agents: agents).run()
                }
            }
        }
        guard let all = try await store.runs(kind: .snapshot, group: "all", limit: 1).first?.id,
            let sweep = try await store.runs(kind: .sweep, limit: 1).first?.id
        else { fail("the fleet of \(count) recorded no run") }
        return [
            ("fleet", "/"), ("fleet, filtered to one group", "/?group=g3&state=compliant"),
            ("group of all (latest timeline)", "/groups/all"), ("group of 10%", "/groups/g0"),
            ("VM", "/vms/vm-7"), ("run: snapshot of all", "/runs/\(all)"), ("run: sweep", "/runs/\(sweep)"),
        ]
    } catch {
        fail("cannot record the history of \(count): \(error)")
    }
}
