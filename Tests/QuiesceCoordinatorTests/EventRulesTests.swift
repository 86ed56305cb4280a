import Foundation
import QuiesceAPI
import Testing

@testable import QuiesceCoordinator

/// Which events a run raises: failures and downgrades each time, changes of a VM's state once.
@Suite struct EventRulesTests {
    private func snapshot(_ status: String, _ consistency: String, failure: String? = nil) throws
        -> GroupSnapshotReport
    {
        let json = """
            {"group": "payments", "policy": "requireAll", "sessionId": "s", "status": "\(status)",
             "consistency": "\(consistency)", \(failure.map { "\"failure\": \"\($0)\"," } ?? "")
             "startedAt": "2026-12-04T02:30:00Z", "finishedAt": "2026-12-04T02:31:00Z",
             "cut": {"shown": true, "reason": "r"}, "phases": [], "members": []}
            """
        return try QuiesceJSON.decode(GroupSnapshotReport.self, from: json.utf8)
    }

    @Test func aFailedOrDowngradedSnapshotIsAnEventEachTimeAndTheFirstGoodOneAfterIsARecovery() throws {
        let failed = try snapshot("failed", "none", failure: "db-1 pre-script exited 1")
        let first = EventRules.afterSnapshot(failed, previous: nil, runId: 7)
        #expect(first.map(\.kind) == [.snapshotFailed])
        #expect(first[0].message.contains("db-1 pre-script exited 1") && first[0].runId == 7)
        #expect(EventRules.afterSnapshot(failed, previous: failed, runId: 8).map(\.kind) == [.snapshotFailed])
        let weak = try snapshot("succeeded", "fileSystemConsistent")
        #expect(EventRules.afterSnapshot(weak, previous: failed, runId: 9).map(\.kind) == [.snapshotDowngraded])
        let good = try snapshot("succeeded", "applicationConsistent")
        #expect(EventRules.afterSnapshot(good, previous: weak, runId: 10).map(\.kind) == [.snapshotRecovered])
        #expect(EventRules.afterSnapshot(good, previous: good, runId: 11).isEmpty)
        #expect(EventRules.afterSnapshot(good, previous: nil, runId: 12).isEmpty)
    }

    private func vm(_ name: String, reachable: Bool = true, compliant: Bool, drifted: [String]? = nil) -> SweepReport.VM
    {
        var vm = SweepReport.VM(name: name, address: "\(name):7710", reachable: reachable, compliant: compliant)
        vm.drifted = drifted
        vm.problems = compliant ? [] : ["preScript changed since push run 4"]
        return vm
    }

    @Test func aVMsChangesAreEventsOnceEach() {
        let before = SweepReport(vms: [
            vm("a", compliant: true), vm("b", compliant: false), vm("c", compliant: true),
            vm("d", reachable: false, compliant: false), vm("e", compliant: false, drifted: ["preScript"]),
        ])
        let after = SweepReport(vms: [
            vm("a", compliant: false, drifted: ["postScript"]),  // turned non-compliant, by drift
            vm("b", compliant: false),  // still non-compliant: nothing new
            vm("c", reachable: false, compliant: false),  // stopped answering
            vm("d", compliant: true),  // back
            vm("e", compliant: false, drifted: ["preScript"]),  // the same drift: nothing new
            vm("f", compliant: false),  // new to the fleet and not compliant
        ])
        let events = EventRules.afterSweep(after, previous: before, runId: 3)
        #expect(
            events.map { "\($0.vm ?? "") \($0.kind.rawValue)" } == [
                "a vmNonCompliant", "a vmDrifted", "c vmUnreachable", "d vmRecovered", "f vmNonCompliant",
            ])
        #expect(events.first { $0.kind == .vmDrifted }?.message.contains("postScript changed") == true)
        #expect(EventRules.afterSweep(after, previous: after, runId: 4).isEmpty)
    }
}
