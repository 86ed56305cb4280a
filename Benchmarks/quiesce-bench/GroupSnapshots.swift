import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceDemo
import QuiesceHTTPClient

// group-snapshot: group snapshots driven in this process by the coordinator's library over
// libcurl. (1) Against 1, 10 and 100 simulated agents (instant scripts, simulated freezes), so
// what is measured is the coordination itself: the freeze skew (first to last frozenAt) and
// each phase's duration, medians over the runs, with the 1-member group as the baseline of
// every ratio. (2) As root, against 3 real agents with loop-mounted ext4 disks: each member's
// frozen time beyond its own snapshot command.

func groupSnapshots(runs: Int) async {
    let agent = agentExecutable()
    print("group-snapshot: medians of \(runs) runs")
    var baseline: [String: Double] = [:]
    for count in [1, 10, 100, 1000] {
        // On tmpfs, as a real agent's state directory is (/run/quiesce): a thousand simulated
        // agents writing their session journals to one disk would measure that disk instead.
        let work = shell(["mktemp", "-d", "/dev/shm/quiesce-group.XXXXXX"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let base =
            count == 1000
            ? 20_000 + Int(getpid() % 10) * 1000
            : 30_000 + Int(getpid() % 10) * 300 + (count == 100 ? 150 : count == 10 ? 20 : 0)
        let simulator = SimulatedAgents(agent: agent, count: count, base: base, work: work)
        defer { simulator.stop() }
        let scripts = "\(work)/fleet/scripts"
        let vms = (0..<count).map { #"{"name": "vm-\#($0)", "address": "127.0.0.1:\#(base + $0)", "groups": ["g"]}"# }
        writeFile(
            "\(work)/fleet.json",
            #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 10}, "groups": {"g": {}}, "vms": "#
                + #"[\#(vms.joined(separator: ","))]}"#
        )
        writeFile(
            "\(work)/config.json",
            #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#)
        writeFile("\(work)/pre.sh", "#!/bin/sh\n", mode: 0o700)
        writeFile("\(work)/post.sh", "#!/bin/sh\n", mode: 0o700)
        guard let inventory = try? FleetInventory.load(path: "\(work)/fleet.json"), let group = inventory.groups["g"],
            let bundle = try? PushBundle.load(
                pluginConfig: "\(work)/config.json", preScript: "\(work)/pre.sh", postScript: "\(work)/post.sh")
        else { fail("cannot prepare the \(count)-agent fleet") }
        // Every freeze request waits for the agreed instant: all must be in flight at once.
        let agents = AgentClient(
            client: CurlClient(maxConcurrentTransfers: max(256, count)), requestTimeout: .seconds(10))
        guard await Push.run(bundle, to: inventory.vms, canary: 0, agents: agents).succeeded else {
            fail("the push to \(count) agents failed")
        }
        var reports: [GroupSnapshotReport] = []
        for _ in 0..<runs {
            let report = await GroupSnapshot(group: group, members: inventory.vms, agents: agents).run()
            guard report.status == .succeeded else {
                fail("a group snapshot of \(count) failed: \(report.failure ?? "")")
            }
            reports.append(report)
        }
        let skew = median(reports.compactMap(\.freezeSkewMs))
        let total = median(reports.map { $0.finishedAt.timeIntervalSince($0.startedAt) * 1000 })
        var line = String(format: "  %4d members  freeze skew %7.2f ms   whole snapshot %7.1f ms", count, skew, total)
        if count == 1 {
            baseline["total"] = total
        } else {
            line += String(format: " (%.1fx the 1-member group)", total / (baseline["total"] ?? total))
        }
        print(line)
        var phases: [String] = []
        for phase in ["preflight", "prepare", "freeze", "snapshot", "thaw", "finish"] {
            let value = median(reports.compactMap { $0.phases.first { $0.phase == phase }?.durationMs })
            if count == 1 { baseline[phase] = value }
            phases.append(
                String(format: "%@ %.1f ms", phase, value)
                    + (count == 1 ? "" : String(format: " (%.1fx)", value / (baseline[phase] ?? value))))
        }
        print("                phases: " + phases.joined(separator: ", "))
        if count == 1000 { await oneAtATime(group: group, members: inventory.vms, agents: agents) }
    }
    await realMembers(runs: runs, agent: agent)
}

/// The baseline of the largest group: the same members snapshotted one after another, each as a
/// group of its own, as a per-VM tool would: how far apart their freezes are.
private func oneAtATime(group: FleetInventory.Group, members: [FleetInventory.VM], agents: AgentClient) async {
    let started = Date()
    var frozenAts: [Date] = []
    for member in members {
        let report = await GroupSnapshot(group: group, members: [member], agents: agents).run()
        guard report.status == .succeeded else { fail("a one-member snapshot failed: \(report.failure ?? "")") }
        frozenAts += report.members.compactMap(\.frozenAt)
    }
    let spread = (frozenAts.max() ?? started).timeIntervalSince(frozenAts.min() ?? started) * 1000
    print(
        String(
            format: "                baseline, one VM at a time (%d one-member snapshots in a row): first to last "
                + "frozen %.0f ms, %.1f s in all", members.count, spread, Date().timeIntervalSince(started)))
}

/// Three real agents, real frozen loop disks: frozen time beyond the snapshot command.
private func realMembers(runs: Int, agent: String) async {
    guard geteuid() == 0 else {
        print("  3 real members: skipped, not root (loop mounts and FIFREEZE need root)")
        return
    }
    guard let fleet = try? DemoFleet(count: 3, agentPath: agent) else { fail("cannot start the 3 real agents") }
    defer { fleet.stop() }
    do {
        try await fleet.waitUntilReady()
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 8), requestTimeout: .seconds(30))
        let (inventory, group) = try await pushEmptyScripts(to: fleet, agents: agents)
        var beyond: [String: [Double]] = [:]
        var freezeCalls: [String: [Double]] = [:]
        var rest: [String: [Double]] = [:]
        var skews: [Double] = []
        for _ in 0..<runs {
            let report = await GroupSnapshot(group: group, members: inventory.vms, agents: agents).run()
            guard report.status == .succeeded else { fail("a real group snapshot failed: \(report.failure ?? "")") }
            skews.append(report.freezeSkewMs ?? 0)
            for member in report.members {
                if let frozen = member.frozenMs, let snapshot = member.snapshotMs {
                    beyond[member.name, default: []].append(frozen - snapshot)
                }
                if let frozen = member.frozenMs, let snapshot = member.snapshotMs, let call = member.freezeCallMs {
                    freezeCalls[member.name, default: []].append(call)
                    rest[member.name, default: []].append(frozen - snapshot - call)
                }
            }
        }
        print(String(format: "  3 real members (loop-mounted ext4, really frozen): freeze skew %.2f ms", median(skews)))
        for name in beyond.keys.sorted() {
            print(
                String(
                    format:
                        "      %@ frozen beyond its snapshot command: median %.1f ms; its FIFREEZE (the kernel's "
                        + "flush) %.1f ms; the rest (waiting for the others, round trips, FITHAW) %.1f ms",
                    name, median(beyond[name] ?? []), median(freezeCalls[name] ?? []), median(rest[name] ?? [])))
        }
    } catch {
        fail("the real members: \(error)")
    }
}

/// `quiesce-agent simulate` processes of at most 1,000 agents each (`--first`), sharing one root
/// under `work`: agent i on `base + i`. Waits until every agent answers its health check.
struct SimulatedAgents {
    static let perProcess = 1000
    let processes: [Process]

    init(agent: String, count: Int, base: Int, work: String, faults: String = "{}") {
        writeFile("\(work)/token", "bench-token-0123456789abcdef\n")
        writeFile("\(work)/faults.json", faults)
        var processes: [Process] = []
        for first in stride(from: 0, to: count, by: Self.perProcess) {
            let simulator = Process()
            simulator.executableURL = URL(fileURLWithPath: agent)
            simulator.arguments = [
                "simulate", "--count", "\(min(Self.perProcess, count - first))", "--first", "\(first)",
                "--base-port", "\(base)", "--root", "\(work)/fleet", "--token-file", "\(work)/token",
                "--faults", "\(work)/faults.json", "--instant-scripts",
            ]
            simulator.standardOutput = FileHandle.nullDevice
            do { try simulator.run() } catch { fail("cannot start the simulator: \(error)") }
            processes.append(simulator)
            stopOnExit = processes
        }
        self.processes = processes
        let deadline = Date().addingTimeInterval(60 + Double(count) / 200)
        for index in 0..<count {
            while !answers(port: base + index, path: "/v1/health") {
                guard Date() < deadline else { fail("simulated agent \(index) did not answer in time") }
                usleep(20_000)
            }
        }
    }

    func stop() {
        for process in processes { process.terminate() }
        for process in processes { process.waitUntilExit() }
        stopOnExit = []
    }
}

func writeFile(_ path: String, _ text: String, mode: Int = 0o600) {
    do {
        try DemoShell.write(path, text, mode: mode)
    } catch {
        fail(error.description)
    }
}

/// Writes `fleet.json` (the inventory given), a plugin config and two scripts into `directory`,
/// and loads them: what a benchmark pushes to its simulated agents (whose root is
/// `directory/fleet`).
func writeBenchFleet(_ directory: String, inventory: String) -> (FleetInventory, PushBundle) {
    writeFile("\(directory)/fleet.json", inventory)
    let scripts = "\(directory)/fleet/scripts"
    writeFile(
        "\(directory)/config.json",
        #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#)
    writeFile("\(directory)/pre.sh", "#!/bin/sh\necho quiescing\n", mode: 0o700)
    writeFile("\(directory)/post.sh", "#!/bin/sh\necho released\n", mode: 0o700)
    guard let inventory = try? FleetInventory.load(path: "\(directory)/fleet.json"),
        let bundle = try? PushBundle.load(
            pluginConfig: "\(directory)/config.json", preScript: "\(directory)/pre.sh",
            postScript: "\(directory)/post.sh")
    else { fail("cannot prepare the fleet in \(directory)") }
    return (inventory, bundle)
}

/// `quiesce serve` as its own process, as deployed, over `directory`'s `fleet.json` and `state`
/// (or the history at `store`), listening on loopback `port`; its log is dropped. With `host`, in
/// a UTS namespace of its own under that name, as a coordinator on another machine (root only).
func startServe(_ quiesce: String, directory: String, port: Int, store: String? = nil, host: String? = nil) -> Process {
    let service = Process()
    let serve =
        [
            "serve", "--fleet", "\(directory)/fleet.json", "--state", "\(directory)/state", "--listen",
            "127.0.0.1:\(port)",
        ] + (store.map { ["--store", $0] } ?? [])
    if let host {
        service.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        service.arguments = ["--uts", "--", "/bin/sh", "-c", #"hostname "$0" && exec "$@""#, host, quiesce] + serve
    } else {
        service.executableURL = URL(fileURLWithPath: quiesce)
        service.arguments = serve
    }
    service.standardError = FileHandle(forWritingAtPath: "/dev/null")
    do { try service.run() } catch { fail("cannot start quiesce serve: \(error)") }
    return service
}
