import Foundation
import QuiesceAPI
import QuiesceCoordinator

// json-coding: the JSON of a 10,000-agent sweep, both ends of it, in this process: an agent's
// compliance answer encoded (once per request on every agent) and decoded (once per agent on
// the coordinator), and the sweep's report of 10,000 VMs encoded (once for the history, once
// for --json) and decoded (the dashboard and `quiesce show` read it back). Quiesce's own coder
// against Foundation's JSONEncoder and JSONDecoder with the same settings, taking turns; medians
// over the runs.

func jsonCoding(runs: Int) throws {
    let answer = sampleComplianceAnswer()
    let answerBytes = try QuiesceJSON.encode(answer)
    let report = SweepReport(vms: (0..<10_000).map(sampleSweptVM))
    print("json-coding: medians of \(runs) runs (a compliance answer is \(answerBytes.count) bytes)")
    let foundation = QuiesceJSON.foundationEncoder()
    compare(
        "encode a compliance answer", per: 10_000, runs: runs,
        foundation: { _ = try foundation.encode(answer) }, quiesce: { _ = try QuiesceJSON.encode(answer) })
    compare(
        "encode a 10,000-VM sweep report", per: 1, runs: runs,
        foundation: { _ = try foundation.encode(report) }, quiesce: { _ = try QuiesceJSON.encode(report) })
    let data = Data(answerBytes)
    let decoder = QuiesceJSON.foundationDecoder()
    compare(
        "decode a compliance answer", per: 10_000, runs: runs,
        foundation: { _ = try decoder.decode(CheckReport.self, from: data) },
        quiesce: { _ = try QuiesceJSON.decode(CheckReport.self, from: answerBytes) })
    let reportBytes = try QuiesceJSON.encode(report)
    let reportData = Data(reportBytes)
    compare(
        "decode a 10,000-VM sweep report", per: 1, runs: runs,
        foundation: { _ = try decoder.decode(SweepReport.self, from: reportData) },
        quiesce: { _ = try QuiesceJSON.decode(SweepReport.self, from: reportBytes) })
}

/// Times `per` calls of each, taking turns run by run, and prints the medians per call.
private func compare(
    _ label: String, per count: Int, runs: Int, foundation: () throws -> Void, quiesce: () throws -> Void
) {
    var times: (foundation: [Double], quiesce: [Double]) = ([], [])
    let clock = ContinuousClock()
    do {
        for _ in 0..<runs {
            var start = clock.now
            for _ in 0..<count { try foundation() }
            times.foundation.append((clock.now - start) / .microseconds(1) / Double(count))
            start = clock.now
            for _ in 0..<count { try quiesce() }
            times.quiesce.append((clock.now - start) / .microseconds(1) / Double(count))
        }
    } catch {
        fail("\(label): \(error)")
    }
    let (theirs, ours) = (median(times.foundation), median(times.quiesce))
    print(
        "  " + label.padding(toLength: 34, withPad: " ", startingAt: 0)
            + String(format: "Foundation %10.1f µs  Quiesce %10.1f µs  %.1fx faster", theirs, ours, theirs / ours))
}

/// What a simulated agent answers a sweep: a config and two scripts in order.
private func sampleComplianceAnswer() -> CheckReport {
    let home = "/dev/shm/quiesce-fleet.abcdef/fleet/agent-5"
    let scripts = "/dev/shm/quiesce-fleet.abcdef/fleet/scripts"
    let digest = String(repeating: "e4b556f6", count: 8)
    var report = CheckReport(
        predictedConsistency: .applicationConsistent,
        reason: "every check passes: scripts, permissions and freeze plan are in order",
        configState: .configured, errors: [], warnings: [],
        plugins: [
            PluginCheck(
                name: "ScriptRunner", configPath: "\(home)/VMSnapshotScriptPluginConfig.json",
                preScript: "\(scripts)/pre.sh", postScript: "\(scripts)/post.sh", timeoutSeconds: 30,
                continueBackupOnFailure: true, fsFreezeEnabled: true)
        ],
        files: [
            FileCheck(
                role: .pluginHost, path: "\(home)/VMSnapshotPluginHost.conf", exists: false, ownerUid: nil, mode: nil,
                violations: []),
            FileCheck(
                role: .pluginConfig, path: "\(home)/VMSnapshotScriptPluginConfig.json", exists: true, ownerUid: 0,
                mode: "0600", violations: [], sha256: digest),
            FileCheck(
                role: .preScript, path: "\(scripts)/pre.sh", exists: true, ownerUid: 0, mode: "0700", violations: [],
                sha256: digest),
            FileCheck(
                role: .postScript, path: "\(scripts)/post.sh", exists: true, ownerUid: 0, mode: "0700",
                violations: [], sha256: digest),
        ],
        freeze: FreezePlan(enabled: true, discovered: false, mounts: ["/simulated/agent-5"], excluded: []),
        snapshotProvider: "none")
    report.agent = AgentVersion(version: "0.1.0", hostname: "vm", frozen: false, activeSession: nil)
    return report
}

private func sampleSweptVM(_ index: Int) -> SweepReport.VM {
    let digest = String(repeating: "b1e3c0fe", count: 8)
    let json = #"""
        {"name": "vm-\#(index)", "address": "127.0.0.1:\#(20_000 + index)", "reachable": true, "compliant": true,
        "agentVersion": "0.1.0", "predictedConsistency": "applicationConsistent",
        "reason": "every check passes: scripts, permissions and freeze plan are in order", "problems": [],
        "fileHashes": {"pluginConfig": "\#(digest)", "preScript": "\#(digest)", "postScript": "\#(digest)"},
        "wouldFreeze": ["/simulated/agent-\#(index)"], "warnings": []}
        """#
    do {
        return try QuiesceJSON.decode(SweepReport.VM.self, from: Array(json.utf8))
    } catch {
        fail("the sample swept VM does not decode: \(error)")
    }
}
