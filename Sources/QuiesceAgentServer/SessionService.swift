import QuiesceAPI
import QuiesceAgent
import QuiesceSystem

/// Keeps the session leases: a session nobody asked about within its lease is finished by the
/// agent. At start it first finishes the sessions an earlier agent left open (their post-scripts,
/// from the journal); new sessions wait for that. On graceful shutdown (SIGTERM, SIGINT) it
/// finishes the open session too: thaw first, then the post-scripts, so no VM stays frozen and
/// no application quiesced.
public struct SessionService: Service {
    public let sessions: SessionManager
    /// Audit lines held back during a freeze are written once it is over.
    public let audit: AuditLog
    public let recovery: SessionRecovery

    public init(sessions: SessionManager, audit: AuditLog, recovery: SessionRecovery) {
        self.sessions = sessions
        self.audit = audit
        self.recovery = recovery
    }

    public func run(shutdown: GracefulShutdown) async throws {
        // Not cancelled with this task: a cancelled task would kill the post-scripts it owes.
        let recovery = recovery
        let recovered = await Task { await recovery.finishLeftOpen() }.value
        for session in recovered {
            CurrentProcess.writeToStandardError(
                "quiesce-agent: session \(session.id) was left open by an agent that stopped; finished it: "
                    + "\(session.report.errors.last?.message ?? "")\n")
        }
        await sessions.recovered(recovered)
        try? await shutdown.cancelling {
            var openings = sessions.openings.makeAsyncIterator()
            while !Task.isCancelled {
                await sessions.expireLease()
                if audit.pendingCount > 0, await !sessions.isFrozen() { audit.flush() }
                if audit.pendingCount == 0, await sessions.activeSessionId == nil {
                    // Nothing to watch until a session opens (audit lines are held back only
                    // during one): an idle agent, or a thousand simulated ones, never wakes.
                    _ = await openings.next()
                } else {
                    try await Task.sleep(for: .milliseconds(250))
                }
            }
        }
        // A task of its own, not cancelled with this one: a cancelled task would kill the
        // post-scripts it must run.
        await Task { await sessions.shutdown() }.value
        audit.flush()
    }
}
