import QuiesceAgent
import ServiceLifecycle

/// Keeps the session leases: a session nobody asked about within its lease is finished by the
/// agent. On graceful shutdown (SIGTERM, SIGINT) it finishes the open session too: thaw first,
/// then the post-scripts, so no VM stays frozen and no application quiesced.
public struct SessionService: Service {
    public let sessions: SessionManager

    public init(sessions: SessionManager) { self.sessions = sessions }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sessions.expireLease()
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        // A task of its own, not cancelled with this one: a cancelled task would kill the
        // post-scripts it must run.
        await Task { await sessions.shutdown() }.value
    }
}
