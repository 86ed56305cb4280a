import FoundationEssentials
import QuiesceAPI

/// Snapshot sessions: one at a time, driven phase by phase by the coordinator, each phase
/// idempotent under retry, and finished by the agent itself when the lease runs out.
///
/// A phase may only run once the ones before it did: asking to thaw a session that never
/// froze is refused, never "caught up" by freezing first.
public actor SessionManager {
    /// Why a session request is refused; `SessionError.Kind` decides the HTTP status.
    public struct SessionError: Error, Sendable {
        public enum Kind: Sendable {
            case notFound, conflict, invalid
        }

        public var kind: Kind
        public var code: ErrorCode
        public var message: String
    }

    private struct Active {
        let id: String
        let runner: CycleRunner
        let leaseSeconds: Int
        var leaseEnd: ContinuousClock.Instant
        var leaseExpiresAt: Date
        /// The phase running right now, if any: a second request for the session waits its turn.
        var running: SessionPhase?
    }

    private let makeRunner: @Sendable (String) -> CycleRunner
    /// Told about every session that finishes, for metrics.
    private let onFinished: @Sendable (SessionState) -> Void
    private var active: Active?
    private var finished: [SessionState] = []
    private static let keptFinished = 32

    public init(
        makeRunner: @escaping @Sendable (String) -> CycleRunner, onFinished: @escaping @Sendable (SessionState) -> Void = { _ in }
    ) {
        self.makeRunner = makeRunner
        self.onFinished = onFinished
    }

    /// The session whose freeze is held or whose phases are under way, if any.
    public var activeSessionId: String? { active?.id }

    public func isFrozen() async -> Bool {
        guard let active else { return false }
        return await active.runner.isFrozen
    }

    public func create(_ request: SessionRequest) async throws(SessionError) -> SessionState {
        guard Self.isValid(id: request.id) else {
            throw SessionError(kind: .invalid, code: .badRequest, message: "a session id is 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        guard (1...3600).contains(request.leaseSeconds) else {
            throw SessionError(kind: .invalid, code: .badRequest, message: "leaseSeconds must be 1 to 3600, found \(request.leaseSeconds)")
        }
        if let current = active {
            guard current.id == request.id else {
                throw SessionError(
                    kind: .conflict, code: .busy,
                    message: "session \(current.id) is under way; one session at a time. Finish it or wait for its lease to end")
            }
            return await state(renewing: true)
        }
        if let done = finished.first(where: { $0.id == request.id }) { return done }
        let now = ContinuousClock.now
        active = Active(
            id: request.id, runner: makeRunner(request.id), leaseSeconds: request.leaseSeconds,
            leaseEnd: now.advanced(by: .seconds(request.leaseSeconds)),
            leaseExpiresAt: Date().addingTimeInterval(Double(request.leaseSeconds)), running: nil)
        return await state(renewing: false)
    }

    public func read(_ id: String) async throws(SessionError) -> SessionState {
        if active?.id == id { return await state(renewing: true) }
        if let done = finished.first(where: { $0.id == id }) { return done }
        throw Self.unknown(id)
    }

    /// Runs `phase` of session `id`, unless it already ran or was skipped.
    public func run(
        _ phase: SessionPhase, of id: String, external: ExternalSnapshot? = nil, abortReason: String? = nil
    ) async throws(SessionError) -> SessionState {
        guard let current = active, current.id == id else {
            if let done = finished.first(where: { $0.id == id }) { return done }
            throw Self.unknown(id)
        }
        if let running = current.running {
            throw SessionError(kind: .conflict, code: .busy, message: "phase \(running.rawValue) of session \(id) is running; retry when it is done")
        }
        // Claimed before the first await, so a retry arriving meanwhile is told to wait.
        active?.running = phase
        let runner = current.runner
        let next = await runner.nextPhase
        if phase != .finish, let step = Self.step(of: phase), next < step {
            active?.running = nil
            throw SessionError(
                kind: .conflict, code: .badRequest,
                message: "\(phase.rawValue) comes after \(Self.sessionPhase(of: next)?.rawValue ?? "finish"), which has not run in session \(id)")
        }
        renewLease()
        switch phase {
        case .prepare: await runner.perform(upTo: .freeze)
        case .freeze: await runner.perform(upTo: .snapshot)
        case .snapshot:
            if let external, next == .snapshot {
                await runner.recordExternalSnapshot(
                    external.taken ? .taken(id: external.id) : .failed(external.failure ?? "the group's snapshot failed"))
            }
            await runner.perform(upTo: .thaw)
        case .thaw: await runner.perform(upTo: .postScripts)
        case .finish:
            if let abortReason { await runner.abandonSnapshot(reason: "the coordinator called the snapshot off: \(abortReason)") }
            await runner.perform(upTo: .finished)
        }
        active?.running = nil
        renewLease()
        if let done = await finishIfDone(by: .coordinator) { return done }
        return await state(renewing: false)
    }

    /// Finishes the active session if its lease ran out: thaw, post-scripts, report kept.
    public func expireLease() async {
        guard let current = active, current.running == nil, ContinuousClock.now >= current.leaseEnd else { return }
        await end(current, reason: "its \(current.leaseSeconds) s lease ran out without a request from the coordinator", by: .leaseExpiry)
    }

    /// For graceful shutdown: thaw first (the snapshot is called off if not taken), then the
    /// post-scripts, then the report is kept.
    public func shutdown() async {
        guard let current = active else { return }
        await end(current, reason: "the agent is shutting down", by: .shutdown)
    }

    private func end(_ current: Active, reason: String, by: SessionState.FinishedBy) async {
        active?.running = .finish
        await current.runner.abandonSnapshot(reason: reason)
        await current.runner.perform(upTo: .finished)
        active?.running = nil
        _ = await finishIfDone(by: by)
    }

    private func finishIfDone(by: SessionState.FinishedBy) async -> SessionState? {
        guard let current = active, await current.runner.isFinished else { return nil }
        var done = await state(renewing: false)
        done.finished = true
        done.finishedBy = by
        done.nextPhase = nil
        active = nil
        finished.insert(done, at: 0)
        finished = Array(finished.prefix(Self.keptFinished))
        onFinished(done)
        return done
    }

    private func state(renewing: Bool) async -> SessionState {
        if renewing { renewLease() }
        let current = active!
        let next = await current.runner.nextPhase
        return SessionState(
            id: current.id, leaseExpiresAt: current.leaseExpiresAt, finished: false, finishedBy: nil,
            nextPhase: Self.sessionPhase(of: next), frozen: await current.runner.isFrozen, report: await current.runner.report)
    }

    private func renewLease() {
        guard let current = active else { return }
        active?.leaseEnd = ContinuousClock.now.advanced(by: .seconds(current.leaseSeconds))
        active?.leaseExpiresAt = Date().addingTimeInterval(Double(current.leaseSeconds))
    }

    /// The cycle step a phase starts at; `finish` may come at any time.
    private static func step(of phase: SessionPhase) -> CycleRunner.Phase? {
        switch phase {
        case .prepare: .preScripts
        case .freeze: .freeze
        case .snapshot: .snapshot
        case .thaw: .thaw
        case .finish: nil
        }
    }

    private static func sessionPhase(of step: CycleRunner.Phase) -> SessionPhase? {
        switch step {
        case .preScripts: .prepare
        case .freeze: .freeze
        case .snapshot: .snapshot
        case .thaw: .thaw
        case .postScripts: .finish
        case .finished: nil
        }
    }

    private static func unknown(_ id: String) -> SessionError {
        SessionError(kind: .notFound, code: .notFound, message: "there is no session \(id) (finished ones are kept for the last \(keptFinished))")
    }

    static func isValid(id: String) -> Bool {
        (1...64).contains(id.count)
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }
}
