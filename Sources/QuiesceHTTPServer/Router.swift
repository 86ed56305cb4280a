import NIOHTTP1

/// Matches a request to a route. Patterns are paths whose `:name` segments capture a value.
///
///     Route(.PUT, "/v1/scripts/:phase", bodyLimit: 1 << 20) { request in ... }
public struct Route: Sendable {
    public var method: HTTPMethod
    public var pattern: [Substring]
    /// The largest body accepted; larger requests get 413 before the handler runs.
    public var bodyLimit: Int
    /// Open routes (the agent's `/v1/health`) need no credential.
    public var requiresAuthentication: Bool
    /// Changes the server's files: the agent refuses it with 409 while a freeze is held.
    public var mutating: Bool
    public var handler: @Sendable (HTTPRequest) async throws -> HTTPResponse

    public init(
        _ method: HTTPMethod, _ pattern: String, bodyLimit: Int = 0, requiresAuthentication: Bool = true,
        mutating: Bool = false, handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) {
        self.method = method
        self.pattern = pattern.split(separator: "/")
        self.bodyLimit = bodyLimit
        self.requiresAuthentication = requiresAuthentication
        self.mutating = mutating
        self.handler = handler
    }

    public func match(_ path: String) -> [String: String]? {
        let segments = path.split(separator: "/")
        guard segments.count == pattern.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) {
            if expected.hasPrefix(":") {
                parameters[String(expected.dropFirst())] = PercentDecoding.decode(actual, plusIsSpace: false)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}

/// The route table.
public struct Router: Sendable {
    public var routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    public enum Lookup {
        case found(Route, parameters: [String: String])
        /// The path exists but not with this method.
        case wrongMethod(allowed: [HTTPMethod])
        case notFound
    }

    public func lookup(_ method: HTTPMethod, _ path: String) -> Lookup {
        let matching = routes.compactMap { route in route.match(path).map { (route, $0) } }
        if let (route, parameters) = matching.first(where: { $0.0.method == method }) {
            return .found(route, parameters: parameters)
        }
        return matching.isEmpty ? .notFound : .wrongMethod(allowed: matching.map(\.0.method))
    }
}
