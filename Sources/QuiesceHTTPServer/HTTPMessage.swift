import NIOHTTP1

/// A request as the router sees it: complete, body included (already size-checked).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's address, for the audit log.
    public var peer: String

    /// Values captured by `:name` segments of the route's pattern.
    public var parameters: [String: String] = [:]
    /// False once the client closed the connection: a long handler may give up.
    public var isClientConnected: @Sendable () -> Bool = { true }
}

/// Thrown by a handler: the connection is closed without any answer, as a network fault would
/// (the fleet simulator's `dropConnection`).
public struct CloseWithoutAnswer: Error {
    public init() {}
}

/// A response: status, headers and body.
public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPResponseStatus = .ok, contentType: String, body: [UInt8]) {
        self.status = status
        headers = ["Content-Type": contentType]
        self.body = body
    }
}
