import Foundation

/// Where in a run a fault lands: a phase of a group snapshot, or a push.
enum ChaosPhase: String, CaseIterable, Sendable {
    case prepare, freeze, snapshot, thaw, finish, push
}

/// What goes wrong, always on the first VM (or the coordinator).
enum ChaosFault: String, CaseIterable, Sendable {
    case linkCut = "link cut for 3 s"
    case lossAndDelay = "30% loss, 200 ms delay"
    case coordinatorKill = "coordinator SIGKILL"
    case agentKill = "agent SIGKILL, restart after 1 s"
    case guardKill = "guard SIGKILL"
    case agentAndGuardKill = "agent and guard SIGKILL, restart after 1 s"
}

struct ChaosCell: Sendable, CustomStringConvertible {
    var phase: ChaosPhase
    var fault: ChaosFault
    var description: String { "\(phase.rawValue) × \(fault.rawValue)" }

    /// Every phase under every fault (`scripts/chaos.sh`), or the few CI runs: one of each
    /// kind of fault, each in the phase where it hurts most.
    static func matrix(full: Bool) -> [ChaosCell] {
        if full {
            return ChaosPhase.allCases.flatMap { phase in ChaosFault.allCases.map { ChaosCell(phase: phase, fault: $0) }
            }
        }
        return [
            ChaosCell(phase: .freeze, fault: .agentAndGuardKill), ChaosCell(phase: .snapshot, fault: .linkCut),
            ChaosCell(phase: .prepare, fault: .coordinatorKill), ChaosCell(phase: .freeze, fault: .guardKill),
            ChaosCell(phase: .push, fault: .agentKill), ChaosCell(phase: .finish, fault: .lossAndDelay),
        ]
    }
}

/// What one cell did, for the table in docs/reliability.md.
struct ChaosOutcome: Sendable {
    var cell: ChaosCell
    /// What the fault did, or why it could not land (no guard outside a freeze).
    var applied: String
    /// The coordinator's exit status (nil: killed), the history's word for the run and the
    /// consistency the group was labelled with.
    var exitStatus: Int32?
    var history: String
    var consistency: String?
    /// Seconds from the fault until every disk took writes again, checked once the run ended.
    var thawedAfter: Double?
    var problems: [String]
    var nextSnapshotSucceeded: Bool

    var row: String {
        let exit = exitStatus.map { "exit \($0)" } ?? "killed"
        let thawed = thawedAfter.map { String(format: "%.1f s", $0) } ?? "never"
        let verdict = problems.isEmpty && nextSnapshotSucceeded ? "ok" : problems.joined(separator: "; ")
        let label = consistency.map { ", \($0)" } ?? ""
        let next = nextSnapshotSucceeded ? "yes" : "no"
        return "| \(cell.phase.rawValue) | \(cell.fault.rawValue) | \(applied) | \(exit), \(history)\(label) | "
            + "\(thawed) | \(next) | \(verdict) |"
    }

    static let header =
        "| phase | fault | what it did | coordinator, history, consistency | all disks writable after the fault | "
        + "next snapshot | invariants |\n| --- | --- | --- | --- | --- | --- | --- |"
}
