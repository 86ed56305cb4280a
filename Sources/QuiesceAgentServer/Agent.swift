import FoundationEssentials
import NIOHTTP1
import QuiesceAPI
import QuiesceAgent
import QuiesceHTTPServer
import QuiesceSystem

/// A whole agent: its HTTP server and the session keeper, sharing one `SessionManager`.
/// `quiesce-agent serve`, the fleet simulator and the tests all put it together with
/// `buildAgent(settings:)`, so what they run is what ships.
///
///     let agent = try buildAgent(settings: settings)
///     try await ServiceRunner(services: agent.services).run()
public struct Agent: Sendable {
    public var server: HTTPServer
    /// The server's, kept as their own type for SIGHUP's reload.
    public let credentials: AgentCredentials
    public let sessionKeeper: SessionService

    /// The services to run, the server first: a `ServiceRunner` shuts down in reverse, so the
    /// open session is finished (thaw, post-scripts) before the listener goes.
    public var services: [any Service] { [server, sessionKeeper] }

    /// Runs both until the task is cancelled, without a `ServiceRunner`'s signal handling: for an
    /// agent inside another program (the tests).
    public func run() async throws {
        let services = services
        let never = GracefulShutdown()
        try await withThrowingDiscardingTaskGroup { group in
            for service in services { group.addTask { try await service.run(shutdown: never) } }
        }
    }
}

/// The agent the settings describe: listen address, TLS, token, limits, sessions on the cycle.
/// Plaintext on a non-loopback address is refused unless `insecurePlaintext`. With `enrollment`,
/// an agent waiting to be enrolled: only the open routes and enrollment's, in plaintext (nothing
/// secret crosses; see `Enrollment`).
/// `freezeService` defaults to the guard process of this executable; `scripts` to real runs, told
/// to `sentinel` (as is the snapshot command) so that they end if the agent is killed.
public func buildAgent(
    settings: AgentSettings, insecurePlaintext: Bool = false, freezeService: (any FreezeService)? = nil,
    scripts: (any ScriptRunning)? = nil, sentinel: GroupSentinel? = nil, enrollment: AgentEnrollment? = nil
) throws(AgentError) -> Agent {
    let scripts = scripts ?? ScriptRunner(sentinel: sentinel)
    let address: ListenAddress
    do {
        address = try ListenAddress.parse(settings.server.listen)
    } catch {
        throw AgentError(code: .invalidAgentSettings, message: error.description)
    }
    let credentials =
        enrollment == nil
        ? try AgentCredentials(server: settings.server, owner: settings.requiredOwnerUid) : .none()
    if !credentials.usesTLS && !address.isLoopback && !insecurePlaintext && enrollment == nil {
        throw AgentError(
            code: .invalidAgentSettings,
            message: "refusing to serve plaintext HTTP on \(address), which is not a loopback address: the agent runs "
                + "scripts as root for whoever holds the token. Set tls.certificateFile and tls.keyFile (and "
                + "tls.clientCAFile for mutual TLS), or pass --insecure-plaintext on a network you trust")
    }
    let metrics = RequestMetrics()
    let freezing = freezeService ?? GuardFreezeService.forThisExecutable(settings: settings)
    let provider = settings.makeSnapshotProvider(scripts: ScriptRunner(sentinel: sentinel))
    let recovery = SessionRecovery(settings: settings, scripts: scripts)
    let journal = recovery.journal
    let sessions = SessionManager(
        makeRunner: { id in
            CycleRunner(
                settings: settings, freezeService: freezing, snapshotProvider: provider, sessionId: id,
                scripts: scripts, journal: journal)
        },
        onFinished: { metrics.record($0) }, recovering: recovery.hasWork)
    let audit = AuditLog(path: settings.server.auditLogPath)
    var router = AgentAPI(settings: settings, metrics: metrics, sessions: sessions, credentials: credentials).router()
    if let enrollment { router.routes = router.routes.filter { !$0.requiresAuthentication } + enrollment.routes() }
    var server = HTTPServer(
        name: "quiesce-agent", address: address, router: router, credentials: credentials,
        limits: HTTPServer.Limits(
            maxConnections: settings.server.maxConnections,
            maxConcurrentRequests: settings.server.maxConcurrentRequests,
            requestTimeoutSeconds: settings.server.requestTimeoutSeconds))
    server.loopbackOnly = !credentials.usesTLS && !insecurePlaintext && enrollment == nil
    // Nothing is written while a session is under way: its freeze may be held.
    server.gate = { route in
        guard route.mutating, let session = await sessions.activeSessionId else { return nil }
        return HTTPError(
            .conflict, .frozen,
            "snapshot session \(session) is under way (its freeze may be held); pushes wait until it finishes")
    }
    server.answered = { request in
        metrics.count(status: request.status)
        guard request.method != .GET && request.method != .HEAD else { return }
        audit.record(
            AuditLog.Entry(
                time: Date(), peer: request.peer, method: "\(request.method)", path: request.path,
                status: request.status, bodySHA256: request.body.map { ContentHash.sha256(of: $0) }),
            frozen: await sessions.isFrozen())
    }
    return Agent(
        server: server, credentials: credentials,
        sessionKeeper: SessionService(sessions: sessions, audit: audit, recovery: recovery))
}
