import Foundation
import QuiesceCoordinator
import QuiesceTestSupport
import Testing

/// Two `quiesce serve` on one store: the one running a group snapshot is killed mid-run; the
/// other marks the run interrupted and releases the group at once (finish on every member, not
/// the agents' leases running out). No planned run has two rows.
@Suite("quiesce serve: takeover")
struct CoordinatorTakeoverTests {
    @Test func aSurvivorReleasesTheDeadCoordinatorsGroupAndTakesTheNextRun() async throws {
        // a0 prepares slowly: the run is still under way, a1's session open, when its coordinator dies.
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"latencyMs": {"prepare": 8000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 2, group: #"{"schedule": {"cron": "* * * * *", "timeZone": "UTC"}}"#)
        let files = try PushCommandTests.Files(fleet)
        let push = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
        let first = try await CoordinatorService.start(fleet, inventory: inventory, catchingUp: ["snapshot/all"])
        let second = try await CoordinatorService.start(fleet, inventory: inventory, catchingUp: [])
        let coordinators = [first, second]
        defer { for coordinator in coordinators { _ = coordinator.stop() } }
        let store = first.store

        var claimed: ScheduledRun?
        let opened = await eventually(within: 20) {
            claimed = try? await store.scheduledRuns(job: "snapshot/all").first {
                $0.state == .running && $0.session != nil
            }
            guard claimed != nil else { return false }
            let version = try? await fleet.agent(1).send("GET", "/v1/version", token: SimulatedFleet.token).json()
            return version?["activeSession"] as? String == claimed?.session
        }
        #expect(opened, "a run claimed, its session open on a1")
        let run = try #require(claimed)
        let leader = try #require(
            coordinators.first { run.owner.hasSuffix(":\($0.process.process.processIdentifier)") })
        let survivor = try #require(coordinators.first { $0.port != leader.port })
        kill(leader.process.process.processIdentifier, SIGKILL)
        let killedAt = Date()

        let released = await eventually(within: 15) {
            let row = try? await store.scheduledRuns(job: "snapshot/all").first { $0.plannedAt == run.plannedAt }
            let version = try? await fleet.agent(1).send("GET", "/v1/version", token: SimulatedFleet.token).json()
            return row?.state == .interrupted && version?["activeSession"] == nil
        }
        let log = survivor.stop()
        #expect(released, "interrupted and released within 15 s of the kill\n\(log)")
        #expect(Date().timeIntervalSince(killedAt) < 30, "well before a1's 75 s lease")
        #expect(log.contains("session \(run.session ?? "") released: finished on its 2 members"), "\(log)")
        let event = try #require(try await store.events().first { $0.kind == .snapshotInterrupted }, "\(log)")
        #expect(event.group == "all" && event.details.first?.contains("released: finished on its 2 members") == true)
        let rows = try await store.scheduledRuns(job: "snapshot/all")
        #expect(Set(rows.map(\.plannedAt)).count == rows.count, "no planned run has two rows")
    }
}
