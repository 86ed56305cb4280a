import Foundation
import QuiesceAPI

extension GroupSnapshot {
    /// The report from the machine's verdict, each member's last session state and the
    /// coordinator's own times.
    func assemble(
        _ machine: GroupSequencer, records: [String: MemberRecord], phases: [GroupSnapshotReport.PhaseTiming],
        startedAt: Date
    ) -> GroupSnapshotReport {
        let reportMembers = machine.members.map { member -> GroupSnapshotReport.Member in
            let record = records[member.name]
            let report = record?.state?.report
            var entry = GroupSnapshotReport.Member(
                name: member.name, address: record?.vm.address ?? "",
                status: Self.status(of: member),
                consistency: member.active ? min(member.consistency, report?.consistency ?? member.consistency) : .none,
                frozenMs: report?.freeze.frozenMs, frozenAt: report?.freeze.frozenAt, thawedAt: report?.freeze.thawedAt,
                heldThroughSnapshot: report?.freeze.frozenAt == nil ? nil : report?.freeze.heldThroughSnapshot,
                snapshotId: report?.snapshot.id ?? record?.snapshotId)
            // The coordinator's records carry the phase; the machine's reasons only add what they lack.
            let recorded = record?.problems ?? []
            entry.problems = recorded + member.problems.filter { reason in !recorded.contains { $0.hasSuffix(reason) } }
            entry.errors = report?.errors ?? []
            if let script = report?.preScript, Self.failed(script) { entry.preScript = script }
            if let script = report?.postScript, Self.failed(script) { entry.postScript = script }
            entry.finishedBy = record?.state?.finishedBy?.rawValue
            entry.snapshotMs = report?.snapshot.durationMs
            entry.freezeCallMs = report?.freeze.freezeCallMs
            entry.calls = record?.calls ?? []
            return entry
        }
        let cut = GroupCut.measure(reportMembers)
        let active = reportMembers.filter { $0.status == .succeeded || $0.status == .failed }
        var failure = machine.failure
        var consistency = machine.snapshotTaken ? (active.map(\.consistency).min() ?? .none) : .none
        if machine.snapshotTaken, !cut.shown, consistency > .crashConsistent,
            active.contains(where: { $0.frozenAt != nil })
        {
            consistency = .crashConsistent
            failure = "the group is only crash consistent: the consistent cut cannot be shown (\(cut.reason))"
        }
        let frozenAts = active.compactMap(\.frozenAt)
        return GroupSnapshotReport(
            group: group.name, policy: group.policy.rawValue, sessionId: sessionId,
            status: machine.snapshotTaken && consistency != .none ? .succeeded : .failed, consistency: consistency,
            failure: failure,
            startedAt: startedAt, finishedAt: Date(),
            freezeSkewMs: frozenAts.count > 1
                ? frozenAts.max()!.timeIntervalSince(frozenAts.min()!) * 1000 : (frozenAts.isEmpty ? nil : 0),
            cut: cut, phases: phases, members: reportMembers)
    }

    private static func status(of member: GroupSequencer.Member) -> GroupSnapshotReport.Member.Status {
        if member.active { return member.consistency == .none ? .failed : .succeeded }
        return member.problems.isEmpty ? .calledOff : .leftOut
    }

    private static func failed(_ script: ScriptReport) -> Bool {
        script.result == .failed || script.result == .timedOut
    }
}
