import QuiesceAPI
import QuiesceAgent
import ServiceLifecycle

/// Keeps the session leases: a session nobody asked about within its lease is finished by the
/// agent. On graceful shutdown (SIGTERM, SIGINT) it finishes the open session too: thaw first,
/// then the post-scripts, so no VM stays frozen and no application quiesced.
public struct SessionService: Service {
    public let sessions: SessionManager
    /// Audit lines held back during a freeze are written once it is over.
    public let audit: AuditLog

    public init(sessions: SessionManager, audit: AuditLog) {
        self.sessions = sessions
        self.audit = audit
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sessions.expireLease()
                if audit.pendingCount > 0, await !sessions.isFrozen() { audit.flush() }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        // A task of its own, not cancelled with this one: a cancelled task would kill the
        // post-scripts it must run.
        await Task { await sessions.shutdown() }.value
        audit.flush()
    }
}
