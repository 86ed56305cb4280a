import Foundation
import QuiesceAPI

// fleet-commands: `quiesce push` (config plus two scripts, changed on every run) and `quiesce
// sweep` against N simulated agents (`quiesce-agent simulate --instant-scripts`, processes of
// 1,000, real HTTP on loopback), for N = 100, 1,000 and 10,000: wall time of the whole command and the
// coordinator's peak RSS, medians over the runs. Baselines in the same run: `quiesce inventory`
// over the same fleet (process start and inventory loading, the floor of every command) and the
// same push and sweep one VM at a time (`--max-concurrent 1`), the way a loop over ssh works.

/// A command's wall time and peak resident memory, from wait4.
struct Measured {
    var milliseconds: Double
    var peakKiB: Int
    var status: Int32
    /// The command's own CPU time, user and system: what is left of its wall time here is the
    /// simulated agents' share of the same two cores.
    var cpuMilliseconds: Double = 0
}

func measure(_ arguments: [String]) -> Measured {
    var pid: pid_t = 0
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(
        &actions, 2, "/tmp/quiesce-bench-fleet.stderr", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let start = ContinuousClock.now
    guard posix_spawn(&pid, arguments[0], &actions, nil, argv, environ) == 0 else {
        fail("cannot start \(arguments[0])")
    }
    var status: Int32 = 0
    var usage = rusage()
    _ = wait4(pid, &status, 0, &usage)
    let milliseconds = (ContinuousClock.now - start) / .milliseconds(1)
    let inMilliseconds = { (time: timeval) -> Double in Double(time.tv_sec) * 1000 + Double(time.tv_usec) / 1000 }
    let cpu = inMilliseconds(usage.ru_utime) + inMilliseconds(usage.ru_stime)
    return Measured(
        milliseconds: milliseconds, peakKiB: usage.ru_maxrss, status: (status >> 8) & 0xFF, cpuMilliseconds: cpu)
}

func fleetCommands(runs: Int, counts: [Int] = [100, 1000, 10_000]) {
    let agent = agentExecutable()
    let coordinator = (agent as NSString).deletingLastPathComponent + "/quiesce"
    guard FileManager.default.isExecutableFile(atPath: coordinator) else {
        fail("no quiesce beside this binary: \(coordinator)")
    }
    print("fleet-commands: medians of \(runs) runs; wall time of the whole command, its CPU time and peak RSS")
    for count in counts {
        // On tmpfs, as a real agent's state under /run is: the simulators' fsyncs are not the
        // coordinator's cost.
        let work = shell(["mktemp", "-d", "/dev/shm/quiesce-fleet.XXXXXX"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        defer { try? FileManager.default.removeItem(atPath: work) }
        // Each size on ports of its own, below the ephemeral range (32768 and up).
        let base = [100: 31_500, 1000: 30_300, 10_000: 20_000][count] ?? 20_000
        let simulator = SimulatedAgents(agent: agent, count: count, base: base, work: work)
        defer { simulator.stop() }
        let vms = (0..<count).map { #"{"name": "vm-\#($0)", "address": "127.0.0.1:\#(base + $0)", "groups": ["all"]}"# }
        writeFile(
            "\(work)/fleet.json",
            #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 10}, "groups": {"all": {}}, "vms": "#
                + #"[\#(vms.joined(separator: ","))]}"#
        )
        let scripts = "\(work)/fleet/scripts"
        writeFile(
            "\(work)/config.json",
            #"{"preScriptLocation": "\#(scripts)/pre.sh", "postScriptLocation": "\#(scripts)/post.sh"}"#)
        let state = ["--state", "\(work)/state"]
        let fleet = ["--fleet", "\(work)/fleet.json"]
        func push(_ run: Int, serial: Bool = false) -> Measured {
            // New script content every run, so every agent really writes.
            writeFile("\(work)/pre.sh", "#!/bin/sh\n# run \(run)\necho quiesce\n", mode: 0o700)
            writeFile("\(work)/post.sh", "#!/bin/sh\n# run \(run)\necho release\n", mode: 0o700)
            return check(
                measure(
                    [coordinator, "push"] + fleet + state + [
                        "--plugin-config", "\(work)/config.json", "--pre", "\(work)/pre.sh", "--post",
                        "\(work)/post.sh",
                    ]
                        + (serial ? ["--max-concurrent", "1"] : [])), "push")
        }
        func sweep(serial: Bool = false) -> Measured {
            check(
                measure([coordinator, "sweep", "--json"] + fleet + state + (serial ? ["--max-concurrent", "1"] : [])),
                "sweep")
        }
        let floor = (0..<runs).map { _ in check(measure([coordinator, "inventory", "--json"] + fleet), "inventory") }
        let pushes = (0..<runs).map { push($0) }
        let sweeps = (0..<runs).map { _ in sweep() }
        let serialPushes = (0..<runs).map { push(runs + $0, serial: true) }
        let serialSweeps = (0..<runs).map { _ in sweep(serial: true) }
        let processes = simulator.processes.count
        print("  \(count) agents (\(processes) simulate process\(processes == 1 ? "" : "es"))")
        report("inventory (floor)", floor, against: nil)
        report("push, config + 2 scripts", pushes, against: serialPushes)
        report("sweep", sweeps, against: serialSweeps)
        report("push one VM at a time", serialPushes, against: nil)
        report("sweep one VM at a time", serialSweeps, against: nil)
    }
}

/// The simulators to stop if the benchmark fails.
nonisolated(unsafe) var stopOnExit: [Process] = []

private func check(_ measured: Measured, _ what: String) -> Measured {
    guard measured.status == 0 else {
        let errors = (try? String(contentsOfFile: "/tmp/quiesce-bench-fleet.stderr", encoding: .utf8)) ?? ""
        fail("quiesce \(what) exited \(measured.status): \(errors)")
    }
    return measured
}

private func report(_ label: String, _ runs: [Measured], against serial: [Measured]?) {
    let wall = median(runs.map(\.milliseconds))
    let rss = median(runs.map { Double($0.peakKiB) })
    var line =
        "    " + label.padding(toLength: 26, withPad: " ", startingAt: 0)
        + String(
            format: "median %8.1f ms (min %.1f, max %.1f)  CPU %.1f ms  peak RSS %.1f MiB", wall,
            runs.map(\.milliseconds).min()!, runs.map(\.milliseconds).max()!, median(runs.map(\.cpuMilliseconds)),
            rss / 1024)
    if let serial {
        line += String(format: "  %.1fx faster than one at a time", median(serial.map(\.milliseconds)) / wall)
    }
    print(line)
}
