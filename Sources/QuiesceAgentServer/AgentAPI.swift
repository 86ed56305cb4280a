import FoundationEssentials
import Glibc
import NIOHTTP1
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem

/// The agent's routes under `/v1` and their handlers (docs/api.md).
public struct AgentAPI: Sendable {
    public let settings: AgentSettings
    public let metrics: RequestMetrics

    public init(settings: AgentSettings, metrics: RequestMetrics) {
        self.settings = settings
        self.metrics = metrics
    }

    public func router() -> Router {
        let settings = settings
        let metrics = metrics
        let files = PushedFiles(settings: settings)
        return Router(routes: [
            Route(.GET, AgentRoutes.health, requiresAuthentication: false) { _ in
                try .json(AgentHealth(name: "quiesce-agent", version: QuiesceVersion.current, frozen: false))
            },
            Route(.GET, AgentRoutes.version) { _ in
                try .json(AgentVersion(version: QuiesceVersion.current, hostname: Self.hostname, frozen: false, activeSession: nil))
            },
            Route(.GET, AgentRoutes.pluginConfig) { _ in
                do {
                    return HTTPResponse(contentType: "application/json", body: try FileReader.read(settings.pluginConfigPath))
                } catch let error as SystemError where error.isNotFound {
                    throw HTTPError(.notFound, .notFound, "there is no plugin config at \(settings.pluginConfigPath) yet; PUT one")
                }
            },
            Route(.PUT, AgentRoutes.pluginConfig, bodyLimit: settings.server.configBodyLimit, mutating: true) { request in
                do {
                    return try .json(try files.replacePluginConfig(request.body))
                } catch let refusal as PushedFiles.Refusal {
                    throw Self.httpError(for: refusal)
                }
            },
            Route(.PUT, "/v1/scripts/:phase", bodyLimit: settings.server.scriptBodyLimit, mutating: true) { request in
                guard let phase = request.parameters["phase"].flatMap(AgentRoutes.ScriptPhase.init(rawValue:)) else {
                    throw HTTPError(.notFound, .notFound, "scripts are `/v1/scripts/pre` and `/v1/scripts/post`")
                }
                do {
                    return try .json(
                        try files.replaceScript(phase, request.body, sha256: request.headers.first(name: AgentRoutes.contentSHA256Header)))
                } catch let refusal as PushedFiles.Refusal {
                    throw Self.httpError(for: refusal)
                }
            },
            Route(.GET, AgentRoutes.compliance) { _ in
                try .json(ComplianceCheck.run(settings: settings))
            },
            Route(.GET, AgentRoutes.metrics) { _ in
                HTTPResponse(contentType: "text/plain; version=0.0.4", body: Array(metrics.render().utf8))
            },
        ])
    }

    /// How a refused push is answered.
    static func httpError(for refusal: PushedFiles.Refusal) -> HTTPError {
        let status: HTTPResponseStatus =
            switch refusal.code {
            case .outsideScriptRoot: .forbidden
            case .badRequest: .badRequest
            case .writeFailed: .internalServerError
            default: .unprocessableEntity
            }
        return HTTPError(status, refusal.code, refusal.message, details: refusal.details.isEmpty ? nil : refusal.details)
    }

    static let hostname: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}
