import Foundation
import QuiesceCoordinator
import QuiesceTestSupport
import Testing

/// `quiesce serve` against simulated agents: a scheduled group snapshot and sweep run and are
/// recorded where `quiesce history` reads, `/metrics` tells them, SIGTERM ends it cleanly, and
/// bad schedules are refused with the field named.
@Suite("quiesce serve")
struct CoordinatorServeTests {
    @Test func scheduledRunsAreRecordedAndShownOnMetrics() async throws {
        let fleet = try await SimulatedFleet(count: 3, instantScripts: true)
        defer { fleet.stop() }
        let once = RunOnce()
        let daily = once.schedule
        let inventory = try fleet.inventory(count: 3, group: #"{"schedule": \#(daily), "retention": {"keepLast": 3}}"#)
        // The sweep runs on its own schedule: added beside the groups.
        let text = try String(contentsOfFile: inventory, encoding: .utf8)
        try text.replacingOccurrences(of: #"{"defaults""#, with: #"{"sweepSchedule": \#(daily), "defaults""#)
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let files = try PushCommandTests.Files(fleet)
        let push = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let service = try await CoordinatorService.start(
            fleet, inventory: inventory, catchingUp: ["snapshot/all", "sweep"], once: once)
        let store = service.store
        let client = service.client
        var metrics = ""
        let recorded = await eventually(within: 30) {
            metrics = (try? await client.send("GET", "/metrics"))?.text ?? ""
            return metrics.contains(#"quiesce_scheduled_runs_total{job="snapshot/all",state="succeeded"} 2"#)
                && metrics.contains(#"quiesce_scheduled_runs_total{job="sweep",state="succeeded"} 2"#)
        }
        let log = service.stop()
        #expect(recorded, "\(metrics)\n\(log)")
        #expect(service.exitStatus == 0, "\(log)")
        #expect(log.contains("listening on 127.0.0.1:\(service.port)"), "\(log)")
        #expect(log.contains("snapshot/all: succeeded"), "\(log)")
        #expect(metrics.contains(#"quiesce_group_last_consistency{consistency="applicationConsistent",group="all"} 3"#))
        #expect(metrics.contains(#"quiesce_vm_compliant{vm="a2"} 1"#), "\(metrics)")
        #expect(metrics.contains("# TYPE quiesce_group_last_freeze_skew_seconds gauge"))
        #expect(metrics.contains(#"quiesce_scheduled_run_lateness_seconds{job="snapshot/all"}"#))

        // The CLI reads the same store.
        let history = try await fleet.coordinator(["history"])
        #expect(history.stdout.contains("snapshot") && history.stdout.contains("sweep"), "\(history.stdout)")
        let runs = try await store.scheduledRuns(job: "snapshot/all")
        #expect(runs.first?.state == .succeeded && runs.first?.runId != nil, "\(runs)")
    }

    /// SIGTERM while a group snapshot is under way: the run finishes (thaw, post-scripts) and is
    /// recorded as succeeded before the service exits, and no agent is left in a session.
    @Test func sigtermLetsARunningGroupSnapshotFinish() async throws {
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"latencyMs": {"prepare": 4000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(
            count: 2, group: #"{"schedule": {"cron": "* * * * *", "timeZone": "UTC"}}"#)
        let files = try PushCommandTests.Files(fleet)
        let push = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let service = try await CoordinatorService.start(fleet, inventory: inventory, catchingUp: ["snapshot/all"])
        let store = service.store
        let started = await eventually(within: 20) {
            (try? await store.scheduledRuns(job: "snapshot/all").first?.state) == .running
        }
        let log = service.stop()
        #expect(started, "\(log)")
        #expect(service.exitStatus == 0, "\(log)")
        let run = try #require(try await store.scheduledRuns(job: "snapshot/all").first)
        #expect(run.state == .succeeded, "\(run) \(log)")
        let runId = try #require(run.runId)
        let recorded = try #require(try await store.run(runId))
        #expect(recorded.status == .succeeded, "\(recorded.summary)")
        for index in 0..<2 {
            let version = try await fleet.agent(index).send("GET", "/v1/version", token: SimulatedFleet.token).json()
            #expect(version["activeSession"] == nil && version["frozen"] as? Bool == false, "\(version)")
        }
    }

    @Test func aBadScheduleOrListenAddressIsRefusedNamingIt() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let cases: [(group: String, expected: [String])] = [
            (#"{"schedule": {"cron": "61 * * * *", "timeZone": "UTC"}}"#, ["`groups.all.schedule`", "minute"]),
            (#"{"schedule": {"cron": "0 2 * * *"}}"#, ["required key `groups.all.schedule.timeZone` is missing"]),
            (#"{"schedule": {"cron": "0 2 * * *", "timeZone": "Mars/Olympus"}}"#, ["unknown time zone"]),
            (#"{"retention": {"keepLast": 0}}"#, ["`groups.all.retention.keepLast`"]),
            (#"{"retention": {}}"#, ["`groups.all.retention`", "keepLast"]),
        ]
        for (group, expected) in cases {
            let inventory = try fleet.inventory(count: 1, group: group)
            let result = try await fleet.coordinator(["serve", "--fleet", inventory, "--listen", "127.0.0.1:1"])
            #expect(result.status == 2, "\(group): \(result.stderr)")
            for part in expected { #expect(result.stderr.contains(part), "\(group): \(result.stderr)") }
        }
        let inventory = try fleet.inventory(count: 1)
        let open = try await fleet.coordinator(["serve", "--fleet", inventory, "--listen", "0.0.0.0:7720"])
        #expect(open.status == 2 && open.stderr.contains("beyond loopback: give --tls-cert"), "\(open.stderr)")
    }
}
