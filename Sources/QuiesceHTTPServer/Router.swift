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
        match(Router.segments(of: path))
    }

    /// `segments` is the path already split, once for the whole route table. The literal
    /// segments are compared before any parameter is decoded, so a route that does not match
    /// costs no allocation.
    func match(_ segments: [Substring.UTF8View]) -> [String: String]? {
        guard segments.count == pattern.count else { return nil }
        for (expected, actual) in zip(pattern, segments) where !expected.hasPrefix(":") {
            guard expected.utf8.elementsEqual(actual) else { return nil }
        }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, segments) where expected.hasPrefix(":") {
            parameters[String(expected.dropFirst())] = PercentDecoding.decode(Substring(actual), plusIsSpace: false)
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

    /// The first route of the path with this method; the path is split once for all of them.
    public func lookup(_ method: HTTPMethod, _ path: String) -> Lookup {
        let segments = Self.segments(of: path)
        var allowed: [HTTPMethod] = []
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            if route.method == method { return .found(route, parameters: parameters) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .wrongMethod(allowed: allowed)
    }

    /// The path's segments, empty ones dropped as `split` drops them.
    static func segments(of path: String) -> [Substring.UTF8View] {
        path.utf8.split(separator: UInt8(ascii: "/"))
    }
}
