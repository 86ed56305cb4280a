import FoundationEssentials
import NIOHTTP1
import QuiesceAPI
import QuiesceAgent
import QuiesceHTTPServer
import QuiesceSystem

/// The agent's routes under `/v1` and their handlers (docs/api.md).
public struct AgentAPI: Sendable {
    public let settings: AgentSettings
    public let metrics: RequestMetrics
    public let sessions: SessionManager
    public let credentials: AgentCredentials

    public init(
        settings: AgentSettings, metrics: RequestMetrics, sessions: SessionManager, credentials: AgentCredentials
    ) {
        self.settings = settings
        self.metrics = metrics
        self.sessions = sessions
        self.credentials = credentials
    }

    public func router() -> Router {
        let settings = settings
        let metrics = metrics
        let sessions = sessions
        let files = PushedFiles(settings: settings)
        let credentials = credentials
        return Router(routes: [
            Route(.GET, AgentRoutes.health, requiresAuthentication: false) { _ in
                try .json(
                    AgentHealth(
                        name: "quiesce-agent", version: QuiesceVersion.current, frozen: await sessions.isFrozen()))
            },
            Route(.GET, AgentRoutes.version) { _ in
                try .json(await Self.version(sessions: sessions, credentials: credentials))
            },
            Route(.GET, AgentRoutes.pluginConfig) { _ in
                do {
                    return HTTPResponse(
                        contentType: "application/json", body: try FileReader.read(settings.pluginConfigPath))
                } catch let error as SystemError where error.isNotFound {
                    throw HTTPError(
                        .notFound, .notFound, "there is no plugin config at \(settings.pluginConfigPath) yet; PUT one")
                }
            },
            Route(.PUT, AgentRoutes.pluginConfig, bodyLimit: settings.server.configBodyLimit, mutating: true) {
                request in
                try .json(
                    try files.replacePluginConfig(
                        request.body, signature: request.headers.first(name: ContentSignature.header)))
            },
            Route(.PUT, AgentRoutes.scriptTemplate, bodyLimit: settings.server.scriptBodyLimit, mutating: true) {
                request in
                guard let phase = request.parameters["phase"].flatMap(ScriptPhase.init(rawValue:)) else {
                    throw HTTPError(
                        .notFound, .notFound,
                        "scripts are "
                            + "\(ScriptPhase.allCases.map { "`\(AgentRoutes.script($0))`" }.joined(separator: " and "))"
                    )
                }
                return try .json(
                    try files.replaceScript(
                        phase, request.body, sha256: request.headers.first(name: AgentRoutes.contentSHA256Header),
                        signature: request.headers.first(name: ContentSignature.header)))
            },
            Route(.PUT, AgentRoutes.bundle, bodyLimit: Self.bundleBodyLimit(settings.server), mutating: true) {
                request in
                let upload = try StrictRequestBody.decode(
                    BundleUpload.self, from: request.body, allowedKeys: BundleUpload.keys,
                    nestedKeys: BundleUpload.nestedKeys)!
                return try .json(try files.replaceBundle(upload))
            },
            Route(.GET, AgentRoutes.compliance) { _ in
                var check = ComplianceCheck.run(settings: settings)
                check.agent = await Self.version(sessions: sessions, credentials: credentials)
                return try .json(check)
            },
            Route(.GET, AgentRoutes.snapshots) { _ in
                try .json(await SnapshotManagement.list(try Self.managedProvider(settings)))
            },
            // Deletes snapshots, so not during a session (one may be taking a snapshot now).
            Route(.POST, AgentRoutes.snapshotsPrune, bodyLimit: 4096, mutating: true) { request in
                let asked = try StrictRequestBody.decode(
                    SnapshotPruneRequest.self, from: request.body, allowedKeys: SnapshotPruneRequest.keys)!
                let policy: RetentionPolicy
                do {
                    policy = try RetentionPolicy(keepLast: asked.keepLast, keepDays: asked.keepDays)
                } catch {
                    throw HTTPError(.badRequest, .badRequest, "\(error)")
                }
                let provider = try Self.managedProvider(settings)
                return try .json(
                    await SnapshotManagement.prune(provider, policy: policy, dryRun: asked.dryRun ?? false))
            },
            Route(.GET, AgentRoutes.metrics) { _ in
                HTTPResponse(contentType: "text/plain; version=0.0.4", body: Array(metrics.render().utf8))
            },
            Route(.POST, AgentRoutes.sessions, bodyLimit: 4096) { request in
                let body = try StrictRequestBody.decode(
                    SessionRequest.self, from: request.body, allowedKeys: ["id", "leaseSeconds"])!
                return try .json(try await sessions.create(body))
            },
            Route(.GET, AgentRoutes.sessionTemplate) { request in
                try .json(try await sessions.read(request.parameters["id"] ?? ""))
            },
            Route(.POST, AgentRoutes.sessionPhaseTemplate, bodyLimit: 4096) { request in
                let id = request.parameters["id"] ?? ""
                guard let phase = request.parameters["phase"].flatMap(SessionPhase.init(rawValue:)) else {
                    throw HTTPError(
                        .notFound, .notFound,
                        "session phases are \(SessionPhase.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                var external: ExternalSnapshot?
                var abortReason: String?
                var freezeAt: Date?
                switch phase {
                case .freeze:
                    let body = try StrictRequestBody.decode(
                        FreezePhaseRequest.self, from: request.body, allowedKeys: ["freezeAt"], optional: true)
                    try body?.checkLead()
                    freezeAt = body?.freezeAt
                case .snapshot:
                    external = try StrictRequestBody.decode(
                        SnapshotPhaseRequest.self, from: request.body, allowedKeys: ["external"], optional: true)?
                        .external
                case .finish:
                    abortReason = try StrictRequestBody.decode(
                        FinishPhaseRequest.self, from: request.body, allowedKeys: ["abortReason"], optional: true)?
                        .abortReason
                default:
                    _ = try StrictRequestBody.decode(
                        EmptyRequest.self, from: request.body, allowedKeys: [], optional: true)
                }
                return try .json(
                    try await sessions.run(
                        phase, of: id, external: external, abortReason: abortReason, freezeAt: freezeAt))
            },
        ])
    }

    private struct EmptyRequest: Decodable {}

    static let hostname = CurrentProcess.hostName

    /// A config and two scripts at their own limits, base64 (4 bytes for 3), and room for the JSON.
    static func bundleBodyLimit(_ server: AgentSettings.Server) -> Int {
        (server.configBodyLimit + 2 * server.scriptBodyLimit) / 3 * 4 + 4096
    }

    /// The provider whose snapshots live here; 409 for one that keeps none (none, command).
    private static func managedProvider(_ settings: AgentSettings) throws(HTTPError) -> any ManagedSnapshotProvider {
        do {
            return try SnapshotManagement.provider(for: settings)
        } catch {
            throw HTTPError(.conflict, .noManagedSnapshots, error.message)
        }
    }

    /// What `GET /v1/version` answers, and the compliance answer carries.
    private static func version(sessions: SessionManager, credentials: AgentCredentials) async -> AgentVersion {
        AgentVersion(
            version: QuiesceVersion.current, hostname: hostname, frozen: await sessions.isFrozen(),
            activeSession: await sessions.activeSessionId, certificateNotAfter: credentials.certificateNotAfter)
    }
}
