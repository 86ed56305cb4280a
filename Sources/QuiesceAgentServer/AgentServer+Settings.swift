import QuiesceAPI
import QuiesceAgent
import QuiesceSystem

extension AgentServer {
    /// The server the settings describe: listen address, TLS, token, limits. Plaintext on a
    /// non-loopback address is refused unless `insecurePlaintext`.
    /// `freezeService` defaults to the guard process of this executable; `scripts` to real runs.
    public init(
        settings: AgentSettings, insecurePlaintext: Bool = false, freezeService: (any FreezeService)? = nil,
        scripts: any ScriptRunning = ScriptRunner()
    ) throws(AgentError) {
        let address = try ListenAddress.parse(settings.server.listen)
        let tls = try AgentTLS.context(for: settings.server)
        if tls == nil && !address.isLoopback && !insecurePlaintext {
            throw AgentError(
                code: .invalidAgentSettings,
                message: "refusing to serve plaintext HTTP on \(address), which is not a loopback address: the agent runs "
                    + "scripts as root for whoever holds the token. Set tls.certificateFile and tls.keyFile (and "
                    + "tls.clientCAFile for mutual TLS), or pass --insecure-plaintext on a network you trust")
        }
        let token = try BearerToken.load(path: settings.server.tokenFile, owner: settings.requiredOwnerUid)
        let metrics = RequestMetrics()
        let freezing = freezeService ?? GuardFreezeService.forThisExecutable(settings: settings)
        let provider = settings.makeSnapshotProvider()
        let sessions = SessionManager(
            makeRunner: { id in
                CycleRunner(
                    settings: settings, freezeService: freezing, snapshotProvider: provider, sessionId: id, scripts: scripts)
            },
            onFinished: { metrics.record($0) })
        self.init(
            address: address, router: AgentAPI(settings: settings, metrics: metrics, sessions: sessions).router(),
            token: token, tls: tls, limits: settings.server, metrics: metrics, sessions: sessions,
            audit: AuditLog(path: settings.server.auditLogPath))
    }
}
