import Foundation
import QuiesceAPI
import QuiesceDemo
import QuiesceSystem

// quiesce-bench: measurements printed with a baseline taken in the same run.
//
//   swift build -c release && sudo .build/release/quiesce-bench freeze-overhead [cycles]
//
// freeze-overhead: the frozen time a `run-once` cycle costs beyond its snapshot command (the
// guard's spawn is before the freeze; what counts is FIFREEZE, the guard's round trips and
// FITHAW), median over N cycles on a loop-mounted ext4 image under a writer that appends and
// fdatasyncs without pause, with the flush before the freeze and expedited grace periods and
// without them (cycles alternate), against the bare in-process FIFREEZE + FITHAW of the same
// image spaced like the cycles.

func fail(_ message: String) -> Never {
    for simulator in stopOnExit where simulator.isRunning { simulator.terminate() }
    FileHandle.standardError.write(Data("quiesce-bench: \(message)\n".utf8))
    exit(2)
}

@discardableResult
func shell(_ command: [String]) -> String {
    do {
        return try DemoShell.run(command)
    } catch {
        fail(error.description)
    }
}

/// Runs a clean-up command whose failure (nothing to undo) is expected.
func quietly(_ command: [String]) { _ = try? DemoShell.run(command) }

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ milliseconds: Double) -> String { String(format: "%.3f ms", milliseconds) }

/// The agent executable beside this benchmark.
func agentExecutable() -> String {
    let agent = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("quiesce-agent").path
    guard FileManager.default.isExecutableFile(atPath: agent) else {
        fail("no quiesce-agent beside this binary: \(agent)")
    }
    return agent
}

func freezeOverhead(cycles: Int) {
    guard geteuid() == 0 else { fail("freeze-overhead needs root (it loop-mounts and freezes an ext4 image)") }
    let agent = agentExecutable()
    let work = shell(["mktemp", "-d", "/tmp/quiesce-bench.XXXXXX"]).trimmingCharacters(in: .whitespacesAndNewlines)
    let image = "\(work)/disk.img"
    let mount = "\(work)/disk"
    defer {
        quietly(["fsfreeze", "-u", mount])
        quietly(["umount", mount])
        try? FileManager.default.removeItem(atPath: work)
    }
    shell(["truncate", "-s", "64M", image])
    // Initialise inode tables and journal now, not in the background during the measurements.
    shell(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image])
    try? FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: false)
    shell(["mount", "-o", "loop", image, mount])
    let writer = StallWriter(file: "\(mount)/writer.log")
    defer { writer.stop() }

    // Baseline: the bare ioctls, in this process.
    let freezer = IoctlFreezer()
    let clock = ContinuousClock()
    var bare: [Double] = []
    for _ in 0..<cycles {
        // As far apart as the cycles are: how much FIFREEZE must flush depends on the gap.
        usleep(150_000)
        let start = clock.now
        do {
            try freezer.freeze(mount: mount)
            try freezer.thaw(mount: mount)
        } catch {
            fail("bare freeze failed: \(error)")
        }
        bare.append((clock.now - start) / .milliseconds(1))
    }

    let variants = [
        ("without flush or expediting", #", "flushBeforeFreeze": false, "expediteGracePeriods": false"#),
        ("with both (the defaults)", ""),
    ]
    for (index, variant) in variants.enumerated() {
        let json = """
            {"pluginConfigPath": "\(work)/absent.json", "pluginHostPath": "\(work)/absent.conf", "stateDirectory":
            "\(work)/state",
             "freeze": {"mounts": ["\(mount)"], "timeoutSeconds": 30\(variant.1)},
             "snapshot": {"provider": "command", "command": ["/bin/true"], "timeoutSeconds": 30}}
            """
        _ = FileManager.default.createFile(
            atPath: "\(work)/agent-\(index).json", contents: Data(json.utf8), attributes: [.posixPermissions: 0o600])
    }
    var overhead: [[Double]] = [[], []]
    var frozen: [[Double]] = [[], []]
    var added: [[Double]] = [[], []]
    var freezeCalls: [[Double]] = [[], []]
    for cycle in 0..<(2 * cycles) {
        let variant = cycle % 2
        let output = shell([agent, "run-once", "--settings", "\(work)/agent-\(variant).json", "--json"])
        guard let report = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
            let freeze = report["freeze"] as? [String: Any], let frozenMs = freeze["frozenMs"] as? Double,
            freeze["heldThroughSnapshot"] as? Bool == true,
            let freezeCallMs = freeze["freezeCallMs"] as? Double,
            let snapshotMs = (report["snapshot"] as? [String: Any])?["durationMs"] as? Double
        else { fail("unexpected report: \(output)") }
        frozen[variant].append(frozenMs)
        overhead[variant].append(frozenMs - snapshotMs)
        added[variant].append(frozenMs - snapshotMs - freezeCallMs)
        freezeCalls[variant].append(freezeCallMs)
    }
    let baseline = median(bare)
    print("freeze-overhead: \(cycles) cycles of each kind on a loop-mounted 64 MiB ext4 image under a writer")
    print("  baseline  bare FIFREEZE+FITHAW in process   median \(format(baseline))")
    for (index, variant) in variants.enumerated() {
        print("  cycles \(variant.0):")
        print("    frozen time (first FIFREEZE to last FITHAW)   median \(format(median(frozen[index])))")
        print(
            "    frozen time beyond the snapshot command   median \(format(median(overhead[index])))  "
                + String(
                    format: "(%.2fx the bare ioctls; min %@, max %@)", median(overhead[index]) / baseline,
                    format(overhead[index].min()!), format(overhead[index].max()!)))
        print(
            "    of which FIFREEZE \(format(median(freezeCalls[index]))), Quiesce's own (guard round trips, FITHAW) "
                + "\(format(median(added[index])))")
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "freeze-overhead":
    freezeOverhead(cycles: arguments.count > 1 ? Int(arguments[1]) ?? 20 : 20)
case "agent-footprint":
    agentFootprint(
        runs: arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5, agents: Array(arguments.dropFirst(2)))
case "fleet-commands":
    fleetCommands(
        runs: arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5,
        counts: arguments.count > 2 ? arguments[2].split(separator: ",").compactMap { Int($0) } : [100, 1000, 10_000])
case "group-snapshot":
    await groupSnapshots(runs: arguments.count > 1 ? Int(arguments[1]) ?? 10 : 10)
case "stall":
    await stall(runs: arguments.count > 1 ? Int(arguments[1]) ?? 10 : 10)
case "writer" where arguments.count == 2:
    StallWriter.runWriter(file: arguments[1])
case "recipe-stall":
    recipeStall(runs: arguments.count > 1 ? Int(arguments[1]) ?? 5 : 5)
case "schedule-lateness":
    await scheduleLateness(minutes: arguments.count > 1 ? Int(arguments[1]) ?? 3 : 3)
case "dashboard-pages":
    await dashboardPages(runs: arguments.count > 1 ? Int(arguments[1]) ?? 20 : 20)
case "takeover":
    await takeover(
        runs: arguments.count > 1 ? Int(arguments[1]) ?? 3 : 3, postgresql: arguments.dropFirst().contains("postgresql")
    )
case "json-coding":
    try jsonCoding(runs: arguments.count > 1 ? Int(arguments[1]) ?? 9 : 9)
case "soak":
    soak(
        requests: arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000,
        sessions: arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000)
default:
    fail(
        "usage: quiesce-bench freeze-overhead [cycles] | agent-footprint [runs] [agent...] | "
            + "fleet-commands [runs] [sizes,...] | group-snapshot [runs] | stall [runs] | soak [requests] [sessions] "
            + "| recipe-stall [runs] | schedule-lateness [minutes] | dashboard-pages [runs] | "
            + "takeover [runs] [postgresql] | json-coding [runs]"
    )
}
