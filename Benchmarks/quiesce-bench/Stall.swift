import Foundation
import QuiesceCoordinator
import QuiesceDemo
import QuiesceHTTPClient

// stall: what a group snapshot of 3 real members (loop-mounted ext4, really frozen) costs the
// application, with and without the flush before the freeze and expedited grace periods, in
// the same run: a writer appends and fdatasyncs without pause on vm-1's disk; for each
// snapshot its longest write while the snapshot ran, against its longest write in as long a
// span right after it with no snapshot (the baseline). Also each setting's freeze skew, the
// members' frozen time beyond their snapshot command and FIFREEZE's own time.

private let settingsCompared = [
    ("without flush or expediting", #""flushBeforeFreeze": false, "expediteGracePeriods": false"#),
    ("with both (the defaults)", ""),
]

func stall(runs: Int) async {
    guard geteuid() == 0 else { fail("stall needs root (it loop-mounts and freezes ext4 images)") }
    let agent = agentExecutable()
    print("stall: 3 real members, a writer appending 512 B + fdatasync without pause on vm-1; medians of \(runs)")
    for (label, freezeSettings) in settingsCompared {
        guard let fleet = try? DemoFleet(count: 3, agentPath: agent, freezeSettings: freezeSettings) else {
            fail("cannot start the 3 real agents")
        }
        defer { fleet.stop() }
        let measured = await measureStall(fleet: fleet, runs: runs)
        print("  \(label):")
        print(
            String(
                format: "    writer's longest write: %.2f ms during a group snapshot, %.2f ms without one "
                    + "(stall %.2f ms)", median(measured.during), median(measured.quiet),
                median(measured.during) - median(measured.quiet)))
        print(
            String(
                format:
                    "    freeze skew %.3f ms; frozen beyond the snapshot command %.2f ms, of which FIFREEZE %.2f ms",
                median(measured.skews), median(measured.beyond), median(measured.freezeCalls)))
    }
}

private struct StallFigures {
    var during: [Double] = []
    var quiet: [Double] = []
    var skews: [Double] = []
    var beyond: [Double] = []
    var freezeCalls: [Double] = []
}

private func measureStall(fleet: DemoFleet, runs: Int) async -> StallFigures {
    var figures = StallFigures()
    do {
        try await fleet.waitUntilReady()
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 8), requestTimeout: .seconds(30))
        let (inventory, group) = try await pushEmptyScripts(to: fleet, agents: agents)
        let writer = StallWriter(file: "\(fleet.disks[0])/writer.log")
        defer { writer.stop() }
        try await Task.sleep(for: .seconds(1))
        for _ in 0..<runs {
            let start = StallWriter.now()
            let report = await GroupSnapshot(group: group, members: inventory.vms, agents: agents).run()
            let end = StallWriter.now()
            guard report.status == .succeeded else { fail("a group snapshot failed: \(report.failure ?? "")") }
            try await Task.sleep(for: .microseconds(end - start + 50_000))
            let quietStart = end + 25_000
            let quiet = writer.longestWrite(in: quietStart...(quietStart + end - start))
            let during = writer.longestWrite(in: start...end)
            guard quiet.count > 0, during.count > 0 else { fail("the writer wrote nothing (is it stuck?)") }
            figures.during.append(during.longestMs)
            figures.quiet.append(quiet.longestMs)
            figures.skews.append(report.freezeSkewMs ?? 0)
            for member in report.members {
                guard let frozen = member.frozenMs, let snapshot = member.snapshotMs else { continue }
                figures.beyond.append(frozen - snapshot)
                if let call = member.freezeCallMs { figures.freezeCalls.append(call) }
            }
        }
    } catch {
        fail("the real members: \(error)")
    }
    return figures
}

/// Pushes a config with empty pre- and post-scripts to every member of `fleet`.
func pushEmptyScripts(to fleet: DemoFleet, agents: AgentClient) async throws -> (FleetInventory, FleetInventory.Group) {
    let root = fleet.scriptRoot
    writeFile(
        "\(fleet.directory)/config.json",
        #"{"preScriptLocation": "\#(root)/pre.sh", "postScriptLocation": "\#(root)/post.sh"}"#)
    writeFile("\(fleet.directory)/pre.sh", "#!/bin/sh\n", mode: 0o700)
    writeFile("\(fleet.directory)/post.sh", "#!/bin/sh\n", mode: 0o700)
    let inventory = try fleet.inventory()
    let bundle = try PushBundle.load(
        pluginConfig: "\(fleet.directory)/config.json", preScript: "\(fleet.directory)/pre.sh",
        postScript: "\(fleet.directory)/post.sh")
    guard await Push.run(bundle, to: inventory.vms, canary: 0, agents: agents).succeeded,
        let group = inventory.groups["demo"]
    else { fail("the push to the real agents failed") }
    return (inventory, group)
}
