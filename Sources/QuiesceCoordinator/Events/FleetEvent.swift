import Foundation
import QuiesceAPI

/// Something an operator should hear about without looking: `quiesce serve` raises these after
/// its runs, keeps them in the history store and delivers them to the inventory's webhooks.
/// A webhook receives one event per POST, as this JSON.
public struct FleetEvent: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A group snapshot failed: no backup this time.
        case snapshotFailed
        /// A group snapshot succeeded below application consistency.
        case snapshotDowngraded
        /// A scheduled group snapshot's coordinator died during it: whether a backup was taken is
        /// unknown, and the group was released by another coordinator.
        case snapshotInterrupted
        /// A group snapshot at application consistency after a failed or downgraded one.
        case snapshotRecovered
        /// A VM the last sweep found compliant (or had not seen) is not.
        case vmNonCompliant
        /// A file on a VM is no longer what was pushed there.
        case vmDrifted
        /// A VM's agent stopped answering.
        case vmUnreachable
        /// A VM that was not compliant or not reachable is compliant again.
        case vmRecovered
    }

    public var id: String
    public var kind: Kind
    public var time: Date
    public var group: String?
    public var vm: String?
    /// The history run that found it: `quiesce show RUN` has the whole report.
    public var runId: Int64?
    /// One line: what happened and what to look at.
    public var message: String
    public var details: [String]

    public init(
        kind: Kind, group: String? = nil, vm: String? = nil, runId: Int64?, message: String, details: [String] = [],
        time: Date = Date(), id: String = UUID().uuidString.lowercased()
    ) {
        self.id = id
        self.kind = kind
        self.time = time
        self.group = group
        self.vm = vm
        self.runId = runId
        self.message = message
        self.details = details
    }
}

/// Which events a run raises, from its report and the same job's previous one: failures and
/// downgrades every time (each is a backup that is not what it should be), everything else only
/// when it changes, so that a VM non-compliant for a week is one event, not one per sweep.
public enum EventRules {
    public static func afterSnapshot(
        _ report: GroupSnapshotReport, previous: GroupSnapshotReport?, runId: Int64?
    ) -> [FleetEvent] {
        let group = report.group
        if report.status == .failed {
            return [
                FleetEvent(
                    kind: .snapshotFailed, group: group, runId: runId,
                    message: "group \(group): snapshot failed: \(report.failure ?? "see the report")",
                    details: report.members.filter { $0.status != .succeeded }.map { member in
                        "\(member.name): \(member.status.rawValue)"
                            + (member.errors.first.map { ": \($0.message)" } ?? "")
                    })
            ]
        }
        if report.consistency < .applicationConsistent {
            return [
                FleetEvent(
                    kind: .snapshotDowngraded, group: group, runId: runId,
                    message: "group \(group): snapshot is only \(report.consistency.rawValue)"
                        + (report.failure.map { ": \($0)" } ?? ""))
            ]
        }
        guard let previous, previous.status == .failed || previous.consistency < .applicationConsistent else {
            return []
        }
        return [
            FleetEvent(
                kind: .snapshotRecovered, group: group, runId: runId,
                message: "group \(group): snapshot application-consistent again")
        ]
    }

    public static func afterSweep(_ report: SweepReport, previous: SweepReport?, runId: Int64?) -> [FleetEvent] {
        let before = Dictionary((previous?.vms ?? []).map { ($0.name, $0) }) { first, _ in first }
        return report.vms.sorted { $0.name < $1.name }.flatMap { vm -> [FleetEvent] in
            let was = before[vm.name]
            var events: [FleetEvent] = []
            if !vm.reachable {
                if was?.reachable != false {
                    events.append(
                        FleetEvent(
                            kind: .vmUnreachable, vm: vm.name, runId: runId,
                            message: "\(vm.name) (\(vm.address)) does not answer", details: vm.problems))
                }
                return events
            }
            if !vm.compliant, was?.compliant != false || was?.reachable == false {
                events.append(
                    FleetEvent(
                        kind: .vmNonCompliant, vm: vm.name, runId: runId,
                        message: "\(vm.name) is not compliant: \(vm.problems.first ?? "see the report")",
                        details: vm.problems))
            }
            let newlyDrifted = Set(vm.drifted ?? []).subtracting(was?.drifted ?? [])
            if !newlyDrifted.isEmpty {
                events.append(
                    FleetEvent(
                        kind: .vmDrifted, vm: vm.name, runId: runId,
                        message:
                            "\(vm.name): \(newlyDrifted.sorted().joined(separator: ", ")) changed since the last push",
                        details: vm.problems))
            }
            if vm.compliant, let was, !was.compliant {
                events.append(
                    FleetEvent(kind: .vmRecovered, vm: vm.name, runId: runId, message: "\(vm.name) is compliant again"))
            }
            return events
        }
    }
}
