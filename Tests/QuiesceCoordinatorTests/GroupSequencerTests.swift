import QuiesceAPI
import Testing

@testable import QuiesceCoordinator

@Suite("Group sequencer")
struct GroupSequencerTests {
    typealias Step = GroupSequencer.Step
    typealias Outcome = GroupSequencer.Outcome

    /// The phases a step belongs to, for scripting outcomes.
    enum Phase: String, CaseIterable {
        case preflight, prepare, freeze, groupCommand, snapshot, thaw, finish
    }

    static func phase(of step: Step) -> Phase? {
        switch step {
        case .preflight: .preflight
        case .prepare: .prepare
        case .freeze: .freeze
        case .groupCommand: .groupCommand
        case .snapshot: .snapshot
        case .thaw: .thaw
        case .finish: .finish
        case .done: nil
        }
    }

    static func members(of step: Step) -> [String] {
        switch step {
        case .preflight(let names), .prepare(let names), .freeze(let names), .groupCommand(let names), .thaw(let names):
            names
        case .snapshot(let names, _): names
        case .finish(let orders): orders.map(\.member)
        case .done: []
        }
    }

    /// Runs the machine to the end; `outcome` answers for each member in each phase (success
    /// at application consistency by default). Returns every step taken.
    static func run(
        _ members: [String] = ["a", "b", "c"], policy: GroupSequencer.Policy = .requireAll, groupCommand: Bool = false,
        outcome: (Phase, String) -> Outcome? = { _, _ in nil }
    ) -> (GroupSequencer, [Step]) {
        var machine = GroupSequencer(members: members, policy: policy, usesGroupCommand: groupCommand)
        var steps = [machine.start()]
        while steps.last != .done, steps.count < 50 {
            let step = steps.last!
            let phase = phase(of: step)!
            var outcomes: [String: Outcome] = [:]
            for name in Self.members(of: step) {
                outcomes[name] = outcome(phase, name) ?? .succeeded(.applicationConsistent)
            }
            steps.append(machine.advance(with: outcomes))
        }
        return (machine, steps)
    }

    @Test func aHealthyGroupGoesThroughEveryPhaseOnce() {
        let (machine, steps) = Self.run()
        #expect(steps.compactMap(Self.phase) == [.preflight, .prepare, .freeze, .snapshot, .thaw, .finish])
        #expect(steps.dropLast().allSatisfy { Self.members(of: $0) == ["a", "b", "c"] })
        #expect(steps[5] == .finish(["a", "b", "c"].map { .init(member: $0, abortReason: nil) }))
        #expect(machine.failure == nil && machine.snapshotTaken)
        #expect(machine.members.allSatisfy { $0.finished && $0.consistency == .applicationConsistent })
    }

    @Test func withAGroupCommandTheAgentsRecordItsResult() {
        let (machine, steps) = Self.run(groupCommand: true)
        #expect(
            steps.compactMap(Self.phase) == [.preflight, .prepare, .freeze, .groupCommand, .snapshot, .thaw, .finish])
        #expect(steps[4] == .snapshot(["a", "b", "c"], external: ExternalSnapshot(taken: true)))
        #expect(machine.snapshotTaken)
    }

    @Test func requireAllStopsAtPreflightWithoutTouchingAnyone() {
        let (machine, steps) = Self.run { phase, name in
            phase == .preflight && name == "b" ? .succeeded(.fileSystemConsistent) : nil
        }
        #expect(steps == [.preflight(["a", "b", "c"]), .done])
        #expect(machine.failure?.contains("b (its next snapshot would only be fileSystemConsistent)") == true)
    }

    @Test func requireAllCallsOffAfterAFailedPreScriptAndReleasesEveryone() {
        let (machine, steps) = Self.run { phase, name in
            phase == .prepare && name == "c" ? .succeeded(.fileSystemConsistent) : nil
        }
        #expect(steps.compactMap(Self.phase) == [.preflight, .prepare, .finish])
        guard case .finish(let orders) = steps[2] else { return }
        #expect(orders.map(\.member) == ["a", "b", "c"], "every member that ran a pre-script gets its post-script")
        #expect(orders.allSatisfy { $0.abortReason?.contains("nothing was frozen") == true })
        #expect(machine.failure?.contains("c (after its pre-script it can only reach fileSystemConsistent)") == true)
        #expect(!machine.snapshotTaken)
    }

    @Test func bestEffortReleasesAFailedMemberAtOnceAndLabelsTheGroupWithTheWeakest() {
        let (machine, steps) = Self.run(policy: .bestEffort) { phase, name in
            switch (phase, name) {
            case (.prepare, "a"): .unreachable("timeout")
            case (.prepare, "b"): .succeeded(.fileSystemConsistent)
            default: nil
            }
        }
        #expect(steps.compactMap(Self.phase) == [.preflight, .prepare, .finish, .freeze, .snapshot, .thaw, .finish])
        #expect(steps[2] == .finish([.init(member: "a", abortReason: "left out of the group snapshot: timeout")]))
        #expect(steps[3] == .freeze(["b", "c"]))
        #expect(Self.members(of: steps[6]) == ["b", "c"], "a finished once, not twice")
        #expect(machine.failure == nil && machine.snapshotTaken)
        #expect(machine.members.filter(\.active).map(\.consistency).min() == .fileSystemConsistent)
    }

    @Test func aMemberThatMissesTheFreezeDeadlineThawsEveryoneBeforeAnySnapshot() {
        for policy in GroupSequencer.Policy.allCases {
            let (machine, steps) = Self.run(policy: policy) { phase, name in
                phase == .freeze && name == "b" ? .unreachable("timeout after 5 s") : nil
            }
            #expect(steps.compactMap(Self.phase) == [.preflight, .prepare, .freeze, .finish], "\(policy)")
            #expect(Self.members(of: steps[3]) == ["a", "b", "c"])
            #expect(machine.failure?.contains("freeze missed its deadline on b") == true)
        }
    }

    @Test func aFailedGroupCommandFailsTheGroupButEveryoneThawsAndFinishes() {
        let (machine, steps) = Self.run(groupCommand: true) { phase, _ in
            phase == .groupCommand ? .failed("exit 3") : nil
        }
        #expect(steps[4] == .snapshot(["a", "b", "c"], external: ExternalSnapshot(taken: false, failure: "exit 3")))
        #expect(steps.compactMap(Self.phase).suffix(2) == [.thaw, .finish])
        #expect(machine.failure == "the group snapshot command failed: exit 3" && !machine.snapshotTaken)
    }

    /// Every phase, every kind of failure, every member position, both policies: the machine
    /// ends, nobody is frozen without being thawed or finished, every opened session finishes
    /// exactly once, and nothing is snapshotted after a failure before the snapshot.
    @Test func everyFailureAtEveryPhaseEndsWithEveryoneReleased() {
        let failures: [Outcome] = [
            .failed("broke"), .unreachable("timeout"), .succeeded(.fileSystemConsistent), .succeeded(.none),
        ]
        for policy in GroupSequencer.Policy.allCases {
            for groupCommand in [false, true] {
                for phase in Phase.allCases {
                    for failure in failures {
                        for victim in ["a", "b", "c"] {
                            let (machine, steps) = Self.run(policy: policy, groupCommand: groupCommand) { at, name in
                                at == phase && (name == victim || at == .groupCommand) ? failure : nil
                            }
                            let context = "\(policy) \(groupCommand) \(phase) \(failure) \(victim)"
                            #expect(steps.last == .done, "\(context)")
                            let prepared = Set(steps.filter { Self.phase(of: $0) == .prepare }.flatMap(Self.members))
                            let finished = steps.filter { Self.phase(of: $0) == .finish }.flatMap(Self.members)
                            #expect(
                                Set(finished) == prepared && finished.count == prepared.count, "\(context): \(finished)"
                            )
                            let frozen = Set(steps.filter { Self.phase(of: $0) == .freeze }.flatMap(Self.members))
                            #expect(frozen.isSubset(of: Set(finished)), "\(context)")
                            let freezeIndex = steps.firstIndex { Self.phase(of: $0) == .freeze }
                            if let freezeIndex, policy == .requireAll {
                                #expect(
                                    !steps[..<freezeIndex].contains { Self.phase(of: $0) == .finish },
                                    "\(context): freeze after a call-off")
                            }
                            if machine.snapshotTaken { #expect(machine.failure == nil, "\(context)") }
                            if phase == .snapshot || (phase == .groupCommand && groupCommand),
                                failure != .succeeded(.fileSystemConsistent)
                            {
                                #expect(!machine.snapshotTaken, "\(context)")
                            }
                        }
                    }
                }
            }
        }
    }
}
