import FoundationEssentials
import QuiesceAPI

/// Snapshot sessions, carried out: `SessionMachine` decides (one at a time, phases in order,
/// claims, leases, shutdown) and this actor does what it says on each session's `CycleRunner`,
/// keeping the reports of the last finished sessions.
public actor SessionManager {
    private let makeRunner: @Sendable (String) -> CycleRunner
    /// Told about every session that finishes, for metrics.
    private let onFinished: @Sendable (SessionState) -> Void
    private var machine: SessionMachine
    /// The active session's cycle.
    private var runner: CycleRunner?
    private var finished: [String: SessionState] = [:]
    /// Shutdown waiting for whoever holds the session to finish it.
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    /// An element each time a session opens, for the one task that watches leases (the newest
    /// is kept until read): it sleeps on this while no session is open instead of polling.
    public nonisolated let openings: AsyncStream<Void>
    private let opened: AsyncStream<Void>.Continuation

    /// `recovering` true refuses new sessions (503 `Recovering`) until `recovered(_:)`.
    public init(
        makeRunner: @escaping @Sendable (String) -> CycleRunner,
        onFinished: @escaping @Sendable (SessionState) -> Void = { _ in }, recovering: Bool = false
    ) {
        self.makeRunner = makeRunner
        self.onFinished = onFinished
        machine = SessionMachine(recovering: recovering)
        (openings, opened) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The sessions an earlier agent left open are finished: their reports answer from now on,
    /// and new sessions may open.
    public func recovered(_ states: [SessionState]) {
        for state in states {
            finished[state.id] = state
            onFinished(state)
        }
        for forgotten in machine.recovered(states.map(\.id)) { finished[forgotten] = nil }
    }

    /// The session whose freeze is held or whose phases are under way, if any.
    public var activeSessionId: String? { machine.active?.id }

    public func isFrozen() async -> Bool {
        await runner?.isFrozen ?? false
    }

    public func create(_ request: SessionRequest) async throws(SessionError) -> SessionState {
        switch try machine.create(id: request.id, leaseSeconds: request.leaseSeconds, now: .now) {
        case .current: return await state()
        case .finished: return finished[request.id]!
        case .open:
            let runner = makeRunner(request.id)
            self.runner = runner
            opened.yield()
            return await carryOut(machine.opened(next: await runner.nextPhase, now: .now))
        }
    }

    public func read(_ id: String) async throws(SessionError) -> SessionState {
        switch try machine.read(id, now: .now) {
        case .active: await state()
        case .finished: finished[id]!
        }
    }

    /// Runs `phase` of session `id`, unless it already ran or was skipped.
    public func run(
        _ phase: SessionPhase, of id: String, external: ExternalSnapshot? = nil, abortReason: String? = nil,
        freezeAt: Date? = nil
    ) async throws(SessionError) -> SessionState {
        switch try machine.claim(phase, of: id, now: .now) {
        case .finished: return finished[id]!
        case .run: break
        }
        let runner = runner!
        if phase == .snapshot, let external {
            await runner.recordExternalSnapshot(
                external.taken ? .taken(id: external.id) : .failed(external.failure ?? "the group's snapshot failed"))
        }
        if phase == .freeze, let freezeAt { await runner.planFreeze(at: freezeAt) }
        if phase == .finish, let abortReason {
            await runner.abandonSnapshot(reason: "the coordinator called the snapshot off: \(abortReason)")
        }
        await runner.perform(through: phase)
        let completion = machine.completed(
            next: await runner.nextPhase, cycleFinished: await runner.isFinished, now: .now)
        return await carryOut(completion)
    }

    /// Finishes the active session if its lease ran out: thaw, post-scripts, report kept.
    public func expireLease() async {
        guard let current = machine.active, machine.expireLease(now: .now) else { return }
        _ = await end(
            reason: "its \(current.leaseSeconds) s lease ran out without a request from the coordinator",
            by: .leaseExpiry)
    }

    /// For graceful shutdown: no new session, a phase under way is let finish, then thaw first
    /// (the snapshot is called off if not taken), the post-scripts, and the report is kept.
    public func shutdown() async {
        switch machine.shutdown() {
        case .nothing: return
        case .end: _ = await end(reason: Self.shutdownReason, by: .shutdown)
        case .wait: await withCheckedContinuation { closeWaiters.append($0) }
        }
    }

    private static let shutdownReason = "the agent is shutting down"

    /// Does what a completed claim calls for and answers with the session's state.
    private func carryOut(_ completion: SessionMachine.Completion) async -> SessionState {
        switch completion {
        case .carryOn: await state()
        case .close(let by): await close(by: by)
        case .end: await end(reason: Self.shutdownReason, by: .shutdown)
        }
    }

    /// The agent finishes the session itself, which the machine claimed `.ending` for it.
    private func end(reason: String, by: SessionState.FinishedBy) async -> SessionState {
        let runner = runner!
        await runner.abandonSnapshot(reason: reason)
        await runner.perform(through: .finish)
        return await close(by: by)
    }

    private func close(by: SessionState.FinishedBy) async -> SessionState {
        var done = await state()
        done.finished = true
        done.finishedBy = by
        done.nextPhase = nil
        finished[done.id] = done
        for forgotten in machine.close() { finished[forgotten] = nil }
        runner = nil
        onFinished(done)
        closeWaiters.forEach { $0.resume() }
        closeWaiters = []
        return done
    }

    private func state() async -> SessionState {
        let current = machine.active!
        let runner = runner!
        let leaseLeft = ContinuousClock.now.duration(to: current.leaseEnd) / .seconds(1)
        return SessionState(
            id: current.id, leaseExpiresAt: Date().addingTimeInterval(leaseLeft), finished: false, finishedBy: nil,
            nextPhase: await runner.nextPhase, frozen: await runner.isFrozen, report: await runner.report)
    }
}
