import NIOHTTP1
import QuiesceAPI
import QuiesceAgentServer
import QuiesceHTTPServer

extension AgentFaults {
    /// `router` with these faults in front of every handler, less the routes it must not have;
    /// the real agent's request path (authentication, limits, the session gate) is untouched.
    public func wrap(_ router: Router) -> Router {
        Router(
            routes: router.routes.filter { route in
                !(withoutRoutes ?? []).contains { $0.split(separator: "/") == route.pattern }
            }.map { route in
                var route = route
                let handler = route.handler
                route.handler = { request in
                    if let injected = try await inject(into: request) { return injected }
                    return try await handler(request)
                }
                return route
            })
    }

    /// The latency, failure, garbage, hang or dropped connection for this request, if any. A
    /// hang lasts until the client gives up (closes the connection) or the task is cancelled.
    private func inject(into request: HTTPRequest) async throws -> HTTPResponse? {
        if dropConnection == true { throw CloseWithoutAnswer() }
        let key = Self.key(for: request.path)
        if let delay = latencyMs?[key] { try? await Task.sleep(for: .milliseconds(delay)) }
        if hang?.contains(key) == true {
            while request.isClientConnected(), (try? await Task.sleep(for: .milliseconds(50))) != nil {}
        }
        if fail?.contains(key) == true {
            throw HTTPError(.internalServerError, .simulatedFault, "simulated failure of \(key)")
        }
        if garbage?.contains(key) == true {
            return HTTPResponse(contentType: "application/json", body: Array("<html>502 Bad Gateway</html>".utf8))
        }
        return nil
    }
}
