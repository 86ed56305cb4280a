import Foundation
import QuiesceTestSupport
import Testing

/// The fault matrix on separate hosts (docs/reliability.md): five agents, each in its own network
/// namespace behind TLS with its own loop-mounted disk and a writer on it; every phase of a group
/// snapshot and of a push under every fault. After each: no disk left frozen, every pre-script
/// answered by exactly one post-script, pushed files whole, the history truthful, and the next
/// group snapshot succeeds. `scripts/chaos.sh` runs it (QUIESCE_CHAOS=full for every cell,
/// `bounded` for the few that CI runs); plain `swift test` leaves it out.
@Suite(
    .enabled(if: ProcessInfo.processInfo.environment["QUIESCE_CHAOS"] != nil, "run by scripts/chaos.sh"),
    .serialized)
struct ChaosMatrixTests {
    static let full = ProcessInfo.processInfo.environment["QUIESCE_CHAOS"] == "full"

    @Test func everyFaultInEveryPhaseLeavesNothingFrozenAndEveryApplicationReleased() async throws {
        try #require(Privilege.isRoot, "the fault matrix makes network namespaces and freezes disks: run it as root")
        let fleet = try ChaosFleet(count: 5)
        defer { fleet.remove() }
        #expect(await fleet.waitUntilEveryAgentAnswers(), "every agent answers over TLS on its own address")
        #expect(try await fleet.snapshot(name: "baseline") == 0, "a healthy fleet takes a group snapshot")
        var outcomes: [ChaosOutcome] = []
        for cell in ChaosCell.matrix(full: Self.full) {
            let outcome = try await run(cell, on: fleet)
            print("chaos: \(outcome.row)")
            #expect(outcome.problems.isEmpty, "\(cell): \(outcome.problems)")
            #expect(outcome.nextSnapshotSucceeded, "\(cell): the next group snapshot failed")
            outcomes.append(outcome)
        }
        let table = ([ChaosOutcome.header] + outcomes.map(\.row)).joined(separator: "\n") + "\n"
        if let path = ProcessInfo.processInfo.environment["QUIESCE_CHAOS_REPORT"] {
            try table.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    private func run(_ cell: ChaosCell, on fleet: ChaosFleet) async throws -> ChaosOutcome {
        let first = fleet.agents[0]
        fleet.clearMarkers()
        let runsBefore = fleet.newestRun()?.id ?? 0
        let pushed = cell.phase == .push ? try preparePush(fleet) : nil
        if let pushed {
            try fleet.startCoordinator(
                ["push", "--plugin-config", pushed.config, "--pre", pushed.pre, "--post", pushed.post], name: "run")
        } else {
            try fleet.startCoordinator(["snapshot", "--group", "all"], name: "run")
        }
        var outcome = ChaosOutcome(
            cell: cell, applied: "", exitStatus: nil, history: "", consistency: nil, thawedAfter: nil, problems: [],
            nextSnapshotSucceeded: false)
        guard await reached(cell.phase, fleet) else {
            outcome.applied = "the run never reached \(cell.phase.rawValue)"
            outcome.problems.append(outcome.applied)
            outcome.exitStatus = await fleet.coordinatorStatus(within: 120)
            return try await settle(outcome, fleet, faultAt: Date(), pushed: pushed, runsBefore: runsBefore)
        }
        let faultAt = Date()
        var healing: Task<Void, Never>?
        switch cell.fault {
        case .linkCut:
            try fleet.network.setLink(ofAgent: 0, up: false)
            outcome.applied = "link down, up again after 3 s"
            healing = Task {
                try? await Task.sleep(for: .seconds(3))
                try? fleet.network.setLink(ofAgent: 0, up: true)
            }
        case .lossAndDelay:
            outcome.applied = try fleet.network.degrade(agent: 0)
        case .coordinatorKill:
            fleet.killCoordinator()
            outcome.applied = "coordinator killed"
        case .agentKill:
            first.kill()
            outcome.applied = "agent killed, restarted after 1 s"
            healing = Task {
                try? await Task.sleep(for: .seconds(1))
                try? first.start()
            }
        case .guardKill:
            if let guardPid = first.guardPid {
                kill(guardPid, SIGKILL)
                outcome.applied = "guard killed"
            } else {
                outcome.applied = "no guard runs in this phase: nothing to kill"
            }
        case .agentAndGuardKill:
            let hadGuard = first.guardPid != nil
            first.killWithGuard()
            outcome.applied =
                hadGuard
                ? "agent and guard killed, restarted after 1 s"
                : "agent killed (no guard in this phase), restarted after 1 s"
            healing = Task {
                try? await Task.sleep(for: .seconds(1))
                try? first.start()
            }
        }
        outcome.exitStatus = await fleet.coordinatorStatus(within: 120)
        await healing?.value
        fleet.network.clear(agent: 0)
        return try await settle(outcome, fleet, faultAt: faultAt, pushed: pushed, runsBefore: runsBefore)
    }

    /// Heals what is left, waits for the agents to finish their sessions, checks the invariants,
    /// and takes the next group snapshot.
    private func settle(
        _ outcome: ChaosOutcome, _ fleet: ChaosFleet, faultAt: Date, pushed: PushedFiles?, runsBefore: Int
    ) async throws -> ChaosOutcome {
        var outcome = outcome
        try? fleet.network.setLink(ofAgent: 0, up: true)
        if !fleet.agents[0].isRunning { try fleet.agents[0].start() }
        if !(await fleet.waitUntilEveryAgentAnswers(within: 30)) {
            outcome.problems.append("an agent did not answer after the fault was healed")
        }
        // Frozen disks: a probe write from a child process must get through.
        let thawed = await eventually(within: 60) {
            fleet.agents.allSatisfy { (try? $0.disk.acceptsWrites(within: 0.3)) == true }
        }
        if thawed {
            outcome.thawedAfter = Date().timeIntervalSince(faultAt)
        } else {
            outcome.problems.append("a disk was still frozen 60 s after the fault")
        }
        // Every session over (a coordinator gone leaves them to their leases) and every pre-script
        // answered by exactly one post-script.
        let settled = await eventually(within: 60) {
            fleet.agents.indices.allSatisfy(fleet.isIdle) && !fleet.agents.contains { $0.hasJournalledSessions }
        }
        if !settled {
            outcome.problems.append("a session was still open 60 s after the fault")
        }
        let balanced = await eventually(within: 10) { fleet.agents.allSatisfy { $0.unbalancedSessions().isEmpty } }
        if !balanced {
            outcome.problems += fleet.agents.flatMap { agent in
                agent.unbalancedSessions().map { "vm-\(agent.index) \($0)" }
            }
        }
        if let pushed {
            // The VMs share one script root, as VMs built from one image share one path: one file.
            let path = "\(fleet.directory.path)/shared/scripts/pre.sh"
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if text != pushed.oldPre && text != pushed.newPre {
                outcome.problems.append("pre.sh is neither the old script nor the new one in full")
            }
        }
        let newest = fleet.newestRun()
        outcome.history = newest.map { $0.id > runsBefore ? $0.status : "not recorded" } ?? "not recorded"
        switch outcome.exitStatus {
        case nil, .some(..<0):
            // Killed after it had recorded and printed its report, the run's own word stands;
            // killed before it recorded anything, there is no run to tell of.
            let finishedFirst = fleet.printedReport(of: "run") != nil
            if finishedFirst { outcome.applied += " (after the run had finished)" }
            if !["interrupted", "not recorded"].contains(outcome.history) && !finishedFirst {
                outcome.problems.append("the coordinator died but the history says \(outcome.history)")
            }
        case .some(0):
            if outcome.history != "succeeded" {
                outcome.problems.append("exit 0 but the history says \(outcome.history)")
            }
        default:
            if outcome.history == "succeeded" { outcome.problems.append("it failed but the history says succeeded") }
        }
        if outcome.cell.phase != .push {
            outcome.consistency = fleet.printedReport(of: "run")?["consistency"] as? String
        }
        // A freeze that a killed agent or guard cut short cannot have made the cut application
        // consistent; a report that says so would lie.
        let freezeCut =
            [.freeze, .snapshot].contains(outcome.cell.phase)
            && [.guardKill, .agentKill, .agentAndGuardKill].contains(outcome.cell.fault)
            && !outcome.applied.hasPrefix("no guard")
        if freezeCut && outcome.history == "succeeded" && outcome.consistency == "applicationConsistent" {
            outcome.problems.append("the freeze was cut short but the group is labelled application consistent")
        }
        fleet.clearMarkers()
        outcome.nextSnapshotSucceeded = try await fleet.snapshot(name: "next") == 0
        return outcome
    }

    /// Waits until the run is in `phase` on the first VM.
    private func reached(_ phase: ChaosPhase, _ fleet: ChaosFleet) async -> Bool {
        let address = fleet.agents[0].address
        if phase == .push {
            // A moment into the transfer, once the coordinator has loaded the inventory.
            try? await Task.sleep(for: .milliseconds(150))
            return true
        }
        return await eventually(within: 40) {
            switch phase {
            case .prepare: return fleet.marker("prepare-\(address)")
            case .freeze: return fleet.agents[0].guardPid != nil
            case .snapshot: return fleet.marker("snapshot-started")
            case .thaw: return fleet.marker("snapshot-done")
            case .finish, .push: return fleet.marker("finish-\(address)")
            }
        }
    }

    struct PushedFiles {
        var config: String
        var pre: String
        var post: String
        var oldPre: String
        var newPre: String
    }

    /// New versions of the fleet's scripts, padded to 900 KB so that the transfer takes a while.
    private func preparePush(_ fleet: ChaosFleet) throws -> PushedFiles {
        let root = fleet.directory.path
        let oldPre = (try? String(contentsOfFile: "\(root)/shared/scripts/pre.sh", encoding: .utf8)) ?? ""
        let version = "pushed \(UUID().uuidString)"
        let newPre = ChaosScripts.pre(fleet: root, version: version, padding: 900_000)
        return PushedFiles(
            config: try fleet.directory.write("push/config.json", ChaosScripts.config(fleet: root)),
            pre: try fleet.directory.write("push/pre.sh", newPre, mode: 0o700),
            post: try fleet.directory.write(
                "push/post.sh", ChaosScripts.post(fleet: root, version: version, padding: 900_000), mode: 0o700),
            oldPre: oldPre, newPre: newPre)
    }
}
