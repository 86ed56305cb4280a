import FoundationEssentials

extension AgentRoutes {
    /// `POST` creates a session (`SessionRequest`).
    public static let sessions = "/v1/sessions"
    public static let sessionTemplate = "/v1/sessions/:id"
    /// `GET` reads a session's state.
    public static func session(_ id: String) -> String { fill(sessionTemplate, ["id": id]) }
    public static let sessionPhaseTemplate = "/v1/sessions/:id/:phase"
    /// `POST` runs a phase of a session.
    public static func session(_ id: String, _ phase: SessionPhase) -> String {
        fill(sessionPhaseTemplate, ["id": id, "phase": phase.rawValue])
    }
}

/// A snapshot session's phases, in order. Each is idempotent: asking again for a phase that
/// ran (or that the decision table skipped) returns the state without running anything.
public enum SessionPhase: String, Codable, Sendable, CaseIterable {
    /// Pre-check and pre-scripts.
    case prepare
    /// Freeze through the guard, with its deadline.
    case freeze
    /// The configured provider, or a result the coordinator took for the whole group.
    case snapshot
    case thaw
    /// Post-scripts and the final report; with `abortReason`, calls the snapshot off first.
    case finish
}

extension SessionPhase: Comparable {
    /// In the order above: a phase runs only after every earlier one ran or was skipped.
    public static func < (lhs: SessionPhase, rhs: SessionPhase) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// `POST /v1/sessions`.
public struct SessionRequest: Codable, Sendable, Equatable {
    /// Chosen by the coordinator: 1 to 64 of `A-Z a-z 0-9 . _ -`. Creating it again is harmless.
    public var id: String
    /// Without a request for this long, the agent finishes the session itself.
    public var leaseSeconds: Int

    public init(id: String, leaseSeconds: Int) {
        self.id = id
        self.leaseSeconds = leaseSeconds
    }
}

/// The optional body of `POST /v1/sessions/{id}/freeze`.
public struct FreezePhaseRequest: Codable, Sendable, Equatable {
    /// The instant, by the agent's clock, at which the first FIFREEZE is to be issued: every
    /// member of a group gets the same one, so the freezes happen together however the requests
    /// arrive. The agent gets ready first (guard started, mounts flushed), then waits for it;
    /// an instant already past means at once. At most `maxLead` ahead.
    public var freezeAt: Date?

    public init(freezeAt: Date?) { self.freezeAt = freezeAt }

    /// How far ahead `freezeAt` may be; further is refused as a clock or coordinator error.
    public static let maxLead: Duration = .seconds(10)

    /// Refuses a `freezeAt` further ahead of `now` than `maxLead`.
    public func checkLead(now: Date = Date()) throws(StrictRequestBody.Refusal) {
        guard let freezeAt else { return }
        let ahead = freezeAt.timeIntervalSince(now)
        let limit = Self.maxLead / .seconds(1)
        guard ahead > limit else { return }
        throw StrictRequestBody.Refusal(
            "`freezeAt` is \((ahead * 10).rounded() / 10) s ahead of this agent's clock, more than the "
                + "\(Int(limit)) s allowed: check both clocks (NTP)")
    }
}

/// The optional body of `POST /v1/sessions/{id}/snapshot`.
public struct SnapshotPhaseRequest: Codable, Sendable, Equatable {
    /// The snapshot was taken outside the agent, for the whole group at once: record this
    /// instead of running the agent's provider.
    public var external: ExternalSnapshot?

    public init(external: ExternalSnapshot?) { self.external = external }
}

public struct ExternalSnapshot: Codable, Sendable, Equatable {
    public var taken: Bool
    public var id: String?
    public var failure: String?

    public init(taken: Bool, id: String? = nil, failure: String? = nil) {
        self.taken = taken
        self.id = id
        self.failure = failure
    }
}

/// The optional body of `POST /v1/sessions/{id}/finish`.
public struct FinishPhaseRequest: Codable, Sendable, Equatable {
    /// Call the snapshot off (the group will not be snapshotted): thaw, post-scripts, failed.
    public var abortReason: String?

    public init(abortReason: String?) { self.abortReason = abortReason }
}

/// A session as the agent reports it after every request.
public struct SessionState: Codable, Sendable {
    public enum FinishedBy: String, Codable, Sendable {
        case coordinator
        /// Nobody asked within the lease: the agent thawed and ran the post-scripts itself.
        case leaseExpiry
        /// The agent was shut down.
        case shutdown
        /// The agent stopped without finishing it (killed, crashed) and finished it once it was
        /// started again: thawed what its guard noted, ran the post-scripts owed.
        case restart
    }

    public var id: String
    public var leaseExpiresAt: Date
    public var finished: Bool
    public var finishedBy: FinishedBy?
    /// The phase the next request should ask for (`finish` once only that is left).
    public var nextPhase: SessionPhase?
    /// True while the guard holds the freeze.
    public var frozen: Bool
    /// The report so far: `status` is `inProgress` and `consistency` the best still reachable
    /// until the session finished.
    public var report: CycleReport

    public init(
        id: String, leaseExpiresAt: Date, finished: Bool, finishedBy: FinishedBy?, nextPhase: SessionPhase?,
        frozen: Bool,
        report: CycleReport
    ) {
        self.id = id
        self.leaseExpiresAt = leaseExpiresAt
        self.finished = finished
        self.finishedBy = finishedBy
        self.nextPhase = nextPhase
        self.frozen = frozen
        self.report = report
    }
}
