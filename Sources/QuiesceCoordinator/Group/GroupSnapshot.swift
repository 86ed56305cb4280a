import Foundation
import QuiesceAPI

/// `quiesce snapshot`: drives a `GroupSequencer` over the agents' session API, every member of
/// a phase at once, each phase bounded by the group's deadline, and assembles the report.
public struct GroupSnapshot: Sendable {
    public let group: FleetInventory.Group
    public let members: [FleetInventory.VM]
    public let agents: AgentClient
    public let sessionId: String

    public init(
        group: FleetInventory.Group, members: [FleetInventory.VM], agents: AgentClient, sessionId: String? = nil
    ) {
        self.group = group
        self.members = members
        self.agents = agents
        self.sessionId = sessionId ?? Self.newSessionId(group: group.name)
    }

    /// `g-<group>-<UTC time>-<random>`, within the agents' 64 characters of `A-Z a-z 0-9 . _ -`.
    static func newSessionId(group: String) -> String {
        let safe = String(group.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(30))
        let time = Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: false).timeSeparator(.omitted).dateSeparator(
                .omitted))
        return "g-\(safe)-\(time.filter { $0.isNumber || $0 == "T" })-\(UInt16.random(in: 0...UInt16.max))"
    }

    /// The agents finish a session themselves this long after the coordinator's last request:
    /// long enough for a group command to run while they wait.
    var leaseSeconds: Int { min(3600, group.deadlines.freezeSeconds + group.deadlines.snapshotSeconds + 5) }

    public func run() async -> GroupSnapshotReport {
        let startedAt = Date()
        var machine = GroupSequencer(
            members: members.map(\.name), policy: group.policy, usesGroupCommand: group.snapshotCommand != nil)
        var records = Dictionary(uniqueKeysWithValues: members.map { ($0.name, MemberRecord(vm: $0)) })
        var phases: [GroupSnapshotReport.PhaseTiming] = []
        var plannedFreezeAt: Date?
        var step = machine.start()
        while step != .done {
            let phaseStart = Date()
            if case .freeze = step {
                let preflight = phases.first { $0.phase == "preflight" }
                plannedFreezeAt = phaseStart.addingTimeInterval(
                    Self.freezeLead(fanOutMs: preflight?.durationMs ?? 0, roundTripMs: preflight?.slowestCallMs ?? 0)
                        / .seconds(1))
            }
            let (label, outcomes, slowest) = await perform(step, records: &records, freezeAt: plannedFreezeAt)
            let phaseEnd = Date()
            phases.append(
                .init(
                    phase: label, startedAt: phaseStart, finishedAt: phaseEnd,
                    durationMs: phaseEnd.timeIntervalSince(phaseStart) * 1000,
                    slowestCallMs: slowest))
            step = machine.advance(with: outcomes)
        }
        var report = assemble(machine, records: records, phases: phases, startedAt: startedAt)
        report.plannedFreezeAt = plannedFreezeAt
        if let command = group.verifyCommand { await verify(&report, with: command) }
        return report
    }

    /// How far ahead the members' agreed freeze instant is set when the freeze requests go out.
    /// Every request must have reached its agent, and each agent started its guard and flushed,
    /// before the instant. The preflight phase, the same fan-out of light requests moments
    /// before, measures this group's network and agents: twice its whole time (sending every
    /// request and reading every answer) and twice its slowest call, plus 40 ms for a guard's
    /// start and flush; at most half of the agents' limit. A member ready only after the instant
    /// freezes at once, and its lateness shows in the freeze skew.
    static func freezeLead(fanOutMs: Double, roundTripMs: Double) -> Duration {
        let milliseconds = 2 * fanOutMs + 2 * roundTripMs + 40
        return min(.microseconds(Int64(milliseconds * 1000)), FreezePhaseRequest.maxLead / 2)
    }

    /// Runs the group's verify command on the snapshot just taken; a failure fails the run.
    private func verify(_ report: inout GroupSnapshotReport, with command: [String]) async {
        guard report.status == .succeeded else {
            report.verification = .notRun(command, because: "the group's snapshot was not taken")
            return
        }
        let snapshots = report.members.compactMap { member in member.snapshotId.map { (vm: member.name, id: $0) } }
        let started = Date()
        let verification = await RestoreVerification.run(
            command,
            environment: RestoreVerification.environment(group: group.name, session: sessionId, snapshots: snapshots),
            deadline: .seconds(group.deadlines.verifySeconds))
        let finished = Date()
        report.phases.append(
            .init(
                phase: "verify", startedAt: started, finishedAt: finished,
                durationMs: finished.timeIntervalSince(started) * 1000, slowestCallMs: 0))
        report.finishedAt = finished
        report.verification = verification
        if verification.result == .failed {
            report.status = .failed
            report.failure = "restore verification failed: \(verification.reason ?? "it failed")"
        }
    }

    /// What the coordinator learnt of one member.
    struct MemberRecord: Sendable {
        var vm: FleetInventory.VM
        var state: SessionState?
        var calls: [GroupSnapshotReport.Call] = []
        var problems: [String] = []
        var snapshotId: String?
    }

    private func perform(
        _ step: GroupSequencer.Step, records: inout [String: MemberRecord], freezeAt: Date?
    ) async -> (String, [String: GroupSequencer.Outcome], Double) {
        let deadlines = group.deadlines
        switch step {
        case .preflight(let names):
            return await fanOut("preflight", names, records: &records) { vm in
                await preflight(vm)
            }
        case .prepare(let names):
            return await fanOut("prepare", names, records: &records) { vm in
                if case .failure(let error) = await agents.post(
                    SessionState.self, AgentRoutes.sessions, on: vm,
                    json: SessionRequest(id: sessionId, leaseSeconds: leaseSeconds))
                {
                    return (nil, Self.outcome(of: error))
                }
                return await phase(.prepare, on: vm, body: EmptyBody(), timeout: .seconds(deadlines.prepareSeconds)) {
                    _ in nil
                }
            }
        case .freeze(let names):
            return await fanOut("freeze", names, records: &records) { vm in
                await phase(
                    .freeze, on: vm, body: FreezePhaseRequest(freezeAt: freezeAt),
                    timeout: .seconds(Double(deadlines.freezeSeconds) + max(0, freezeAt?.timeIntervalSinceNow ?? 0))
                ) { state in
                    let freeze = state.report.freeze
                    guard freeze.enabled, !freeze.mounts.isEmpty, !state.frozen else { return nil }
                    return "the agent answered but holds no freeze: "
                        + Self.lastError(state, otherwise: "its freeze failed")
                }
            }
        case .groupCommand(let names):
            let started = Date()
            let command = GroupCommand(
                arguments: group.snapshotCommand ?? [],
                environment: [
                    "QUIESCE_GROUP": group.name, "QUIESCE_SESSION": sessionId,
                    "QUIESCE_MEMBERS": names.joined(separator: ","),
                    "QUIESCE_MEMBER_ADDRESSES": names.compactMap { records[$0]?.vm.address }.joined(separator: ","),
                ],
                deadline: .seconds(deadlines.snapshotSeconds))
            let result = await command.run()
            let outcome: GroupSequencer.Outcome =
                result.succeeded ? .succeeded(.applicationConsistent) : .failed(result.failure ?? "failed")
            for name in names {
                records[name]?.snapshotId = result.snapshotId
                records[name]?.calls.append(
                    .init(phase: "groupCommand", sentAt: started, receivedAt: Date(), succeeded: result.succeeded))
            }
            return ("groupCommand", Dictionary(uniqueKeysWithValues: names.map { ($0, outcome) }), result.durationMs)
        case .snapshot(let names, let external):
            return await fanOut("snapshot", names, records: &records) { vm in
                await phase(
                    .snapshot, on: vm, body: SnapshotPhaseRequest(external: external),
                    timeout: .seconds(deadlines.snapshotSeconds)
                ) { state in
                    let snapshot = state.report.snapshot
                    guard !(snapshot.taken && snapshot.usable) else { return nil }
                    return "no usable snapshot: "
                        + Self.lastError(state, otherwise: snapshot.outputTail ?? "the provider failed")
                }
            }
        case .thaw(let names):
            return await fanOut("thaw", names, records: &records) { vm in
                await phase(.thaw, on: vm, body: EmptyBody(), timeout: .seconds(deadlines.thawSeconds)) { state in
                    state.frozen ? "the agent still reports a freeze after thaw" : nil
                }
            }
        case .finish(let orders):
            let reasons = Dictionary(uniqueKeysWithValues: orders.map { ($0.member, $0.abortReason) })
            return await fanOut("finish", orders.map(\.member), records: &records) { vm in
                let abortReason = reasons[vm.name] ?? nil
                return await phase(
                    .finish, on: vm, body: FinishPhaseRequest(abortReason: abortReason),
                    timeout: .seconds(deadlines.finishSeconds)
                ) {
                    state in state.finished ? nil : "the session did not finish"
                }
            }
        case .done:
            return ("done", [:], 0)
        }
    }

    private struct EmptyBody: Encodable {}

    /// Calls every member at once (each call bounded by its phase's deadline) and records each
    /// call's times; returns the phase's label, the outcomes and the slowest call in milliseconds.
    private func fanOut(
        _ label: String, _ names: [String], records: inout [String: MemberRecord],
        _ call: @escaping @Sendable (FleetInventory.VM) async -> (SessionState?, GroupSequencer.Outcome)
    ) async -> (String, [String: GroupSequencer.Outcome], Double) {
        let vms = names.compactMap { records[$0]?.vm }
        let results = await withTaskGroup(of: (String, SessionState?, GroupSequencer.Outcome, Date, Date).self) {
            tasks in
            for vm in vms {
                tasks.addTask {
                    let sent = Date()
                    let (state, outcome) = await call(vm)
                    return (vm.name, state, outcome, sent, Date())
                }
            }
            return await tasks.reduce(into: []) { $0.append($1) }
        }
        var outcomes: [String: GroupSequencer.Outcome] = [:]
        var slowest = 0.0
        for (name, state, outcome, sent, received) in results {
            outcomes[name] = outcome
            slowest = max(slowest, received.timeIntervalSince(sent) * 1000)
            if let state { records[name]?.state = state }
            let succeeded = if case .succeeded = outcome { true } else { false }
            records[name]?.calls.append(.init(phase: label, sentAt: sent, receivedAt: received, succeeded: succeeded))
            switch outcome {
            case .failed(let why), .unreachable(let why): records[name]?.problems.append("\(label): \(why)")
            case .succeeded: break
            }
        }
        return (label, outcomes, slowest)
    }

    /// One session phase on one member; `problem` says what is wrong with an answered state.
    private func phase(
        _ phase: SessionPhase, on vm: FleetInventory.VM, body: some Encodable & Sendable, timeout: Duration,
        problem: @Sendable (SessionState) -> String?
    ) async -> (SessionState?, GroupSequencer.Outcome) {
        switch await agents.post(
            SessionState.self, AgentRoutes.session(sessionId, phase), on: vm, json: body, timeout: timeout)
        {
        case .success(let state):
            if let why = problem(state) { return (state, .failed(why)) }
            return (state, .succeeded(state.report.consistency))
        case .failure(let error):
            return (nil, Self.outcome(of: error))
        }
    }

    private func preflight(_ vm: FleetInventory.VM) async -> (SessionState?, GroupSequencer.Outcome) {
        switch await agents.get(AgentVersion.self, AgentRoutes.version, from: vm) {
        case .failure(let error): return (nil, Self.outcome(of: error))
        case .success(let version):
            if let session = version.activeSession { return (nil, .failed("session \(session) is under way on it")) }
        }
        switch await agents.get(CheckReport.self, AgentRoutes.compliance, from: vm) {
        case .failure(let error): return (nil, Self.outcome(of: error))
        case .success(let check):
            if let error = check.errors.first, check.predictedConsistency == .none {
                return (nil, .failed("\(error.code): \(error.message)"))
            }
            // The sequencer would refuse this level under requireAll too; failing here keeps the agent's reason.
            if check.predictedConsistency != .applicationConsistent, group.policy == .requireAll {
                return (
                    nil,
                    .failed("its next snapshot would only be \(check.predictedConsistency.rawValue): \(check.reason)")
                )
            }
            return (nil, .succeeded(check.predictedConsistency))
        }
    }

    static func outcome(of error: AgentClient.CallError) -> GroupSequencer.Outcome {
        error.isUnreachable ? .unreachable(error.description) : .failed(error.description)
    }

    static func lastError(_ state: SessionState, otherwise: String) -> String {
        state.report.errors.last.map { "\($0.code): \($0.message)" } ?? otherwise
    }
}

extension GroupSnapshot {
    /// Finishes `session` on every member at once, calling the snapshot off (thaw if still
    /// frozen, post-scripts), for a run whose coordinator is gone; says what became of it. A
    /// member that never opened the session, or finished it already, has nothing to release.
    public static func release(
        session: String, members: [FleetInventory.VM], agents: AgentClient, reason: String, deadline: Duration
    ) async -> String {
        let problems = await members.concurrentMap(atMost: agents.maxConcurrentVMs) { vm -> String? in
            switch await agents.post(
                SessionState.self, AgentRoutes.session(session, .finish), on: vm,
                json: FinishPhaseRequest(abortReason: reason), timeout: deadline)
            {
            case .success(let state): state.finished ? nil : "\(vm.name): the session did not finish"
            case .failure(.refused(404, _)): nil
            case .failure(let error): "\(vm.name): \(error)"
            }
        }.compactMap { $0 }
        return problems.isEmpty
            ? "finished on its \(members.count) member\(members.count == 1 ? "" : "s")"
            : problems.joined(separator: "; ")
    }
}
