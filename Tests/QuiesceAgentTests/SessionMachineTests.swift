import QuiesceAPI
import QuiesceAgent
import Testing

@Suite("Session machine")
struct SessionMachineTests {
    let now = ContinuousClock.now

    /// A machine with session `s` open and its cycle starting at `next`.
    private func opened(next: SessionPhase = .prepare, lease: Int = 60) throws -> SessionMachine {
        var machine = SessionMachine()
        #expect(try machine.create(id: "s", leaseSeconds: lease, now: now) == .open)
        #expect(machine.opened(next: next, now: now) == .carryOn)
        return machine
    }

    @Test func oneSessionAtATimeAndCreatingAgainIsHarmless() throws {
        var machine = try opened()
        #expect(try machine.create(id: "s", leaseSeconds: 60, now: now) == .current)
        #expect(
            refusal(&machine) { _ = try $0.create(id: "other", leaseSeconds: 60, now: now) }
                == SessionError(
                    .conflict, .busy,
                    "session s is under way; one session at a time. Finish it or wait for its lease to end"))
    }

    @Test func badIdsAndLeasesAreRefusedAndOpenNothing() {
        var machine = SessionMachine()
        for (id, lease) in [("", 60), (String(repeating: "x", count: 65), 60), ("a/b", 60), ("ok", 0), ("ok", 3601)] {
            #expect(refusal(&machine) { _ = try $0.create(id: id, leaseSeconds: lease, now: now) } != nil)
        }
        #expect(machine.active == nil)
    }

    @Test func aPhaseWhosePredecessorsHaveNotRunIsRefusedNeverCaughtUp() throws {
        var machine = try opened()
        #expect(
            refusal(&machine) { _ = try $0.claim(.thaw, of: "s", now: now) }
                == SessionError(.conflict, .badRequest, "thaw comes after prepare, which has not run in session s"))
        #expect(machine.active?.claim == nil, "a refused request claims nothing")
        #expect(try machine.claim(.prepare, of: "s", now: now) == .run)
        #expect(machine.completed(next: .snapshot, cycleFinished: false, now: now) == .carryOn)
        #expect(
            try machine.claim(.snapshot, of: "s", now: now) == .run,
            "freeze skipped by the cycle: snapshot may come next")
    }

    @Test func aClaimedSessionRefusesEveryOtherPhaseUntilItCompletes() throws {
        var machine = try opened()
        #expect(try machine.claim(.prepare, of: "s", now: now) == .run)
        for phase in SessionPhase.allCases {
            #expect(
                refusal(&machine) { _ = try $0.claim(phase, of: "s", now: now) }
                    == SessionError(.conflict, .busy, "phase prepare of session s is running; retry when it is done"))
        }
        #expect(machine.completed(next: .freeze, cycleFinished: false, now: now) == .carryOn)
        #expect(try machine.claim(.prepare, of: "s", now: now) == .run, "asking again for a phase that ran is harmless")
    }

    @Test func finishingClosesTheSessionAndItsReportAnswersAfterwards() throws {
        var machine = try opened()
        #expect(try machine.claim(.finish, of: "s", now: now) == .run, "finish may come at any time")
        #expect(machine.completed(next: nil, cycleFinished: true, now: now) == .close(.coordinator))
        #expect(machine.close().isEmpty)
        #expect(machine.active == nil)
        #expect(try machine.claim(.freeze, of: "s", now: now) == .finished)
        #expect(try machine.read("s", now: now) == .finished)
        #expect(try machine.create(id: "s", leaseSeconds: 60, now: now) == .finished)
        #expect(refusal(&machine) { _ = try $0.read("never", now: now) } != nil)
    }

    @Test func onlyTheLastFinishedSessionsAreRemembered() throws {
        var machine = SessionMachine()
        var forgotten: [String] = []
        for index in 0..<(SessionMachine.keptFinished + 2) {
            #expect(try machine.create(id: "s\(index)", leaseSeconds: 60, now: now) == .open)
            _ = machine.opened(next: .prepare, now: now)
            forgotten += machine.close()
        }
        #expect(forgotten == ["s0", "s1"])
        #expect(
            machine.finished.count == SessionMachine.keptFinished
                && machine.finished.first == "s\(SessionMachine.keptFinished + 1)")
    }

    @Test func theLeaseRunsOutOnlyWithoutARequestAndNeverUnderARunningPhase() throws {
        var machine = try opened(lease: 10)
        let beforeItsEnd = machine.expireLease(now: now.advanced(by: .seconds(9)))
        _ = try machine.read("s", now: now.advanced(by: .seconds(5)))
        let afterARead = machine.expireLease(now: now.advanced(by: .seconds(14)))
        #expect(!beforeItsEnd && !afterARead, "the read renewed it")
        #expect(try machine.claim(.prepare, of: "s", now: now) == .run)
        let underAPhase = machine.expireLease(now: now.advanced(by: .seconds(3600)))
        #expect(!underAPhase, "a running phase is never cut short")
        _ = machine.completed(next: .freeze, cycleFinished: false, now: now)
        let afterIt = machine.expireLease(now: now.advanced(by: .seconds(11)))
        #expect(afterIt)
        #expect(machine.active?.claim == .ending(.leaseExpiry))
        #expect(refusal(&machine) { _ = try $0.claim(.freeze, of: "s", now: now) } != nil)
    }

    @Test func shutdownWaitsForARunningPhaseThenEndsTheSession() throws {
        var machine = try opened(next: .freeze)
        #expect(try machine.claim(.freeze, of: "s", now: now) == .run)
        #expect(machine.shutdown() == .wait)
        #expect(machine.completed(next: .snapshot, cycleFinished: false, now: now) == .end)
        #expect(machine.active?.claim == .ending(.shutdown))
        _ = machine.close()
        #expect(
            refusal(&machine) { _ = try $0.create(id: "next", leaseSeconds: 60, now: now) }
                == SessionError(
                    .unavailable, .shuttingDown, "the agent is shutting down; open the session once it is back"))
    }

    @Test func shutdownWithNothingRunningEndsAtOnceAndWithNoSessionDoesNothing() throws {
        var idle = SessionMachine()
        #expect(idle.shutdown() == .nothing)
        var machine = try opened()
        #expect(machine.shutdown() == .end)
        #expect(machine.shutdown() == .wait, "a second shutdown waits for the first")
    }

    @Test func shutdownDuringSetUpEndsTheSessionOnceItIsSetUp() throws {
        var machine = SessionMachine()
        #expect(try machine.create(id: "s", leaseSeconds: 60, now: now) == .open)
        #expect(machine.shutdown() == .wait)
        #expect(machine.opened(next: .prepare, now: now) == .end)
    }

    /// Every reachable state under every sequence of requests, completions, lease expiries and
    /// shutdowns, played against a model cycle: no phase runs twice or beside another, none
    /// before its predecessors, and once shut down every session is finished as soon as
    /// nothing holds it.
    @Test func noSessionOpensUntilTheSessionsLeftOpenByAnEarlierAgentAreFinished() throws {
        var machine = SessionMachine(recovering: true)
        #expect(
            refusal(&machine) { _ = try $0.create(id: "new", leaseSeconds: 60, now: now) }?.code == .recovering)
        #expect(machine.active == nil)
        #expect(machine.recovered(["old"]).isEmpty)
        #expect(try machine.read("old", now: now) == .finished, "the recovered session's report answers")
        #expect(try machine.claim(.thaw, of: "old", now: now) == .finished, "and nothing of it runs again")
        #expect(try machine.create(id: "new", leaseSeconds: 60, now: now) == .open)
    }

    @Test func everyInterleavingKeepsTheRules() throws {
        var seen: Set<Model> = [Model()]
        var frontier: [Model] = [Model()]
        var explored = 0
        for _ in 0..<100 where !frontier.isEmpty {
            var next: [Model] = []
            for model in frontier {
                for event in Event.all {
                    var model = model
                    try model.apply(event, now: now)
                    explored += 1
                    if seen.insert(model).inserted { next.append(model) }
                }
            }
            frontier = next
        }
        #expect(frontier.isEmpty, "every reachable state was visited")
        #expect(seen.count > 50, "explored \(explored) transitions over \(seen.count) states")
    }
}

/// The refusal `body` met, or nil when it went through.
private func refusal(_ machine: inout SessionMachine, _ body: (inout SessionMachine) throws -> Void) -> SessionError? {
    do {
        try body(&machine)
        return nil
    } catch {
        return error as? SessionError
    }
}

/// What the manager would do and the cycle it drives, reduced to what the rules are about.
private struct Model: Hashable {
    enum Operation: Hashable {
        case opening
        case phase(SessionPhase)
        case ending
    }

    var machine = SessionMachine()
    /// The work begun and not yet completed, as the manager would hold it across its awaits.
    var inFlight: Operation?
    /// The active session's cycle: the phases it carried out, in order.
    var ran: [SessionPhase] = []

    /// The model cycle's next phase: the first it has not carried out.
    var cycleNext: SessionPhase? { SessionPhase.allCases.first { !ran.contains($0) } }

    mutating func apply(_ event: Event, now: ContinuousClock.Instant) throws {
        let busy = inFlight != nil
        switch event {
        case .create(let id):
            let before = machine.active
            if let opening = try? machine.create(id: id, leaseSeconds: 10, now: now), opening == .open {
                #expect(
                    before == nil && !machine.shuttingDown,
                    "a session opens only when none is and the agent is not shutting down")
                inFlight = .opening
                ran = []
            }
        case .claim(let phase):
            let next = machine.active?.next
            if let claiming = try? machine.claim(phase, of: "a", now: now), claiming == .run {
                #expect(!busy, "a phase is claimed only when nothing holds the session")
                #expect(phase == .finish || next.map { phase <= $0 } == true, "\(phase) before its predecessors ran")
                inFlight = .phase(phase)
            }
        case .complete:
            switch inFlight {
            case .opening:
                inFlight = nil
                handle(machine.opened(next: cycleNext, now: now))
            case .phase(let phase):
                inFlight = nil
                perform(through: phase)
                handle(machine.completed(next: cycleNext, cycleFinished: cycleNext == nil, now: now))
            case .ending:
                inFlight = nil
                perform(through: .finish)
                close()
            case nil:
                break
            }
        case .expireLease:
            if machine.expireLease(now: now.advanced(by: .seconds(3600))) {
                #expect(!busy, "a lease never expires under a running phase")
                inFlight = .ending
            }
        case .shutdown:
            switch machine.shutdown() {
            case .nothing: #expect(machine.active == nil)
            case .end:
                #expect(!busy)
                inFlight = .ending
            case .wait:
                #expect(busy, "shutdown waits only while something holds the session")
            }
        }
        if machine.shuttingDown && inFlight == nil {
            #expect(machine.active == nil, "shut down and nothing holds the session, yet it is still open")
        }
    }

    private mutating func handle(_ completion: SessionMachine.Completion) {
        switch completion {
        case .carryOn: break
        case .close: close()
        case .end: inFlight = .ending
        }
    }

    /// Carries out the phases through `phase` not yet carried out; each exactly once.
    private mutating func perform(through phase: SessionPhase) {
        for step in SessionPhase.allCases where step <= phase && !ran.contains(step) {
            #expect(ran.allSatisfy { $0 < step }, "phases out of order: \(ran) then \(step)")
            ran.append(step)
        }
        #expect(Set(ran).count == ran.count, "a phase ran twice: \(ran)")
    }

    private mutating func close() {
        #expect(cycleNext == nil, "a session closes only once its cycle finished (thawed, post-scripts run)")
        _ = machine.close()
    }
}

private enum Event: Hashable {
    case create(String)
    case claim(SessionPhase)
    case complete
    case expireLease
    case shutdown

    static let all: [Event] =
        [.create("a"), .create("b"), .complete, .expireLease, .shutdown] + SessionPhase.allCases.map { .claim($0) }
}
