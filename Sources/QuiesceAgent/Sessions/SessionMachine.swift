import QuiesceAPI

/// Every decision about snapshot sessions, as a value type that is told what happened and
/// answers what to do; `SessionManager` carries the answers out on a `CycleRunner`. It does no
/// I/O and reads no clock: the time is an argument, so every rule is a plain test.
///
/// The rules: one session at a time; a phase runs only once the phases before it ran (asking
/// to thaw a session that never froze is refused, never "caught up" by freezing first); the
/// session is claimed before anything runs, so no phase runs beside another or twice; a request
/// renews the lease, and a session nobody asked about within it is finished by the agent; on
/// shutdown no new session opens, a phase under way is let finish, and then the session is
/// finished (thaw, post-scripts).
///
///     var machine = SessionMachine()
///     if try machine.create(id: "s1", leaseSeconds: 60, now: now) == .open {
///         machine.opened(next: .prepare, now: now)
///     }
///     try machine.claim(.prepare, of: "s1", now: now)   // .run: perform it, then:
///     machine.completed(next: .freeze, cycleFinished: false, now: now)
public struct SessionMachine: Sendable, Hashable {
    /// How many finished sessions are remembered (and their reports kept).
    public static let keptFinished = 32
    public static let leaseRange = 1...3600

    /// What holds the active session's cycle right now; nothing else may touch it meanwhile.
    public enum Claim: Sendable, Hashable {
        /// Its cycle is being set up.
        case opening
        /// A phase the coordinator asked for is running.
        case phase(SessionPhase)
        /// The agent is finishing it itself (thaw, post-scripts).
        case ending(SessionState.FinishedBy)
    }

    public struct Active: Sendable, Hashable {
        public let id: String
        public let leaseSeconds: Int
        public var leaseEnd: ContinuousClock.Instant
        public var claim: Claim?
        /// The phase the cycle runs next, as it last said; nil while it is being set up.
        public var next: SessionPhase?
    }

    public private(set) var active: Active?
    /// Finished sessions, newest first.
    public private(set) var finished: [String] = []
    /// Set by `shutdown()`: no session opens any more.
    public private(set) var shuttingDown = false
    /// Set until `recovered(_:)`: the sessions an earlier agent left open are being finished,
    /// and no session opens beside them.
    public private(set) var recovering: Bool

    /// `recovering` true holds new sessions back until `recovered(_:)`.
    public init(recovering: Bool = false) { self.recovering = recovering }

    // MARK: Requests

    /// What `create` found.
    public enum Opening: Sendable, Equatable {
        /// A new session, claimed `.opening`: set up its cycle, then call `opened`.
        case open
        /// It is the active session; its lease was renewed.
        case current
        /// It finished already; its report answers.
        case finished
    }

    /// `POST /v1/sessions`. Creating a session again is harmless.
    public mutating func create(id: String, leaseSeconds: Int, now: ContinuousClock.Instant) throws(SessionError)
        -> Opening
    {
        guard Self.isValid(id: id) else {
            throw SessionError(.invalid, .badRequest, "a session id is 1 to 64 of A-Z a-z 0-9 . _ -")
        }
        guard Self.leaseRange.contains(leaseSeconds) else {
            throw SessionError(.invalid, .badRequest, "leaseSeconds must be 1 to 3600, found \(leaseSeconds)")
        }
        if let current = active {
            guard current.id == id else {
                throw SessionError(
                    .conflict, .busy,
                    "session \(current.id) is under way; one session at a time. Finish it or wait for its lease to end")
            }
            renewLease(now)
            return .current
        }
        if finished.contains(id) { return .finished }
        guard !shuttingDown else {
            throw SessionError(
                .unavailable, .shuttingDown, "the agent is shutting down; open the session once it is back")
        }
        guard !recovering else {
            throw SessionError(
                .unavailable, .recovering,
                "the agent restarted and is finishing the sessions it left open (post-scripts); retry in a moment")
        }
        active = Active(
            id: id, leaseSeconds: leaseSeconds, leaseEnd: now.advanced(by: .seconds(leaseSeconds)), claim: .opening,
            next: nil)
        return .open
    }

    /// The new session's cycle is set up and says which phase comes first.
    public mutating func opened(next: SessionPhase?, now: ContinuousClock.Instant) -> Completion {
        completed(next: next, cycleFinished: false, now: now)
    }

    /// What `read` found.
    public enum Reading: Sendable, Equatable {
        /// The active session; its lease was renewed.
        case active
        case finished
    }

    /// `GET /v1/sessions/{id}`.
    public mutating func read(_ id: String, now: ContinuousClock.Instant) throws(SessionError) -> Reading {
        if active?.id == id {
            renewLease(now)
            return .active
        }
        if finished.contains(id) { return .finished }
        throw Self.unknown(id)
    }

    /// What `claim` decided.
    public enum Claiming: Sendable, Equatable {
        /// Claimed: carry the phase out, then call `completed`.
        case run
        /// The session finished already; its report answers, and nothing runs.
        case finished
    }

    /// `POST /v1/sessions/{id}/{phase}`: claims the session for `phase` if it may run now.
    /// A phase that already ran (or was skipped) is claimed too; carrying it out does nothing.
    public mutating func claim(_ phase: SessionPhase, of id: String, now: ContinuousClock.Instant) throws(SessionError)
        -> Claiming
    {
        guard let current = active, current.id == id else {
            if finished.contains(id) { return .finished }
            throw Self.unknown(id)
        }
        switch current.claim {
        case .phase(let running):
            throw SessionError(
                .conflict, .busy, "phase \(running.rawValue) of session \(id) is running; retry when it is done")
        case .opening:
            throw SessionError(.conflict, .busy, "session \(id) is being set up; retry in a moment")
        case .ending(let by):
            let why = by == .leaseExpiry ? "its lease ran out" : "the agent is shutting down"
            throw SessionError(
                .conflict, .busy, "session \(id) is being finished by the agent (\(why)); read it once it is done")
        case nil:
            break
        }
        if phase != .finish, let next = current.next, next < phase {
            throw SessionError(
                .conflict, .badRequest,
                "\(phase.rawValue) comes after \(next.rawValue), which has not run in session \(id)")
        }
        active?.claim = .phase(phase)
        renewLease(now)
        return .run
    }

    /// What to do once a claim is over.
    public enum Completion: Sendable, Equatable {
        /// Nothing more: answer with the session's state.
        case carryOn
        /// The cycle finished: `close(by:)` the session.
        case close(SessionState.FinishedBy)
        /// The agent is shutting down: the session is claimed `.ending(.shutdown)`; finish
        /// its cycle, then `close(by: .shutdown)`.
        case end
    }

    /// The claimed phase (or the set-up) is over; the cycle says what comes next.
    public mutating func completed(next: SessionPhase?, cycleFinished: Bool, now: ContinuousClock.Instant) -> Completion
    {
        guard active != nil else { return .carryOn }
        active?.claim = nil
        active?.next = next
        renewLease(now)
        if cycleFinished { return .close(.coordinator) }
        if shuttingDown {
            active?.claim = .ending(.shutdown)
            return .end
        }
        return .carryOn
    }

    // MARK: The agent's own decisions

    /// The sessions an earlier agent left open are finished (oldest first): they are remembered
    /// like any finished session, and new sessions may open. Returns the finished sessions no
    /// longer remembered.
    public mutating func recovered(_ ids: [String]) -> [String] {
        recovering = false
        return ids.filter { !finished.contains($0) }.flatMap { remember($0) }
    }

    /// Called on a timer: when nobody asked within the lease and nothing runs, the session is
    /// claimed `.ending(.leaseExpiry)`: finish its cycle, then `close(by: .leaseExpiry)`.
    public mutating func expireLease(now: ContinuousClock.Instant) -> Bool {
        guard let current = active, current.claim == nil, now >= current.leaseEnd else { return false }
        active?.claim = .ending(.leaseExpiry)
        return true
    }

    /// What `shutdown` decided.
    public enum Shutdown: Sendable, Equatable {
        /// No session is open.
        case nothing
        /// The session is claimed `.ending(.shutdown)`: finish its cycle, then close it.
        case end
        /// Something holds the session; whoever does finishes it (`completed` answers `.end`).
        /// Wait until it is closed.
        case wait
    }

    /// Graceful shutdown: no session opens from now on, and the open one is finished.
    public mutating func shutdown() -> Shutdown {
        shuttingDown = true
        guard let current = active else { return .nothing }
        guard current.claim == nil else { return .wait }
        active?.claim = .ending(.shutdown)
        return .end
    }

    /// The active session is finished; returns the finished sessions no longer remembered.
    public mutating func close() -> [String] {
        guard let current = active else { return [] }
        active = nil
        return remember(current.id)
    }

    // MARK: Rules

    /// Adds a finished session, newest first; returns those that no longer fit.
    private mutating func remember(_ id: String) -> [String] {
        finished.insert(id, at: 0)
        let forgotten = Array(finished.dropFirst(Self.keptFinished))
        finished.removeLast(forgotten.count)
        return forgotten
    }

    private mutating func renewLease(_ now: ContinuousClock.Instant) {
        guard let current = active else { return }
        active?.leaseEnd = now.advanced(by: .seconds(current.leaseSeconds))
    }

    private static func unknown(_ id: String) -> SessionError {
        SessionError(
            .notFound, .notFound, "there is no session \(id) (finished ones are kept for the last \(keptFinished))")
    }

    static func isValid(id: String) -> Bool {
        (1...64).contains(id.count)
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }
}
