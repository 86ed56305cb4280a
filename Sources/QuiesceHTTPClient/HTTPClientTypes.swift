/// One HTTP request to an agent.
public struct HTTPClientRequest: Sendable {
    public var method: String
    /// `http://host:port/path` or `https://...`.
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// The whole exchange, connection included.
    public var timeout: Duration
    public var connectTimeout: Duration
    /// This agent's own TLS files, instead of the client's: VMs may have their own CA.
    public var tls: ClientTLS?
    /// A longer answer is cut off (`tooLarge`): whatever answers, it cannot fill the coordinator's memory.
    public var maxResponseBytes: Int
    /// False for the last request to an agent for a while: its connection is closed after the
    /// answer instead of waiting in the cache, which libcurl walks each time a transfer ends.
    public var keepConnection: Bool

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5), tls: ClientTLS? = nil,
        maxResponseBytes: Int = 8 << 20, keepConnection: Bool = true
    ) {
        self.maxResponseBytes = maxResponseBytes
        self.keepConnection = keepConnection
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.tls = tls
    }
}

/// An agent's answer.
public struct HTTPClientResponse: Sendable {
    public var status: Int
    /// Header names lowercased; the last value of a repeated header.
    public var headers: [String: String]
    public var body: [UInt8]
    /// New connections this exchange opened: 0 when it reused one.
    public var newConnections: Int
    /// Seconds from the start of the transfer until the last byte.
    public var totalSeconds: Double
}

/// TLS towards the agents: the CA that signed their certificates and, for mutual TLS, the
/// coordinator's own certificate and key (PEM files).
public struct ClientTLS: Sendable, Equatable {
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// Why an exchange got no HTTP answer at all.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Nothing listens there (connection refused).
        case refused
        /// No answer in time (connect or whole exchange).
        case timeout
        /// The TLS handshake or certificate check failed.
        case tls
        /// The host name does not resolve.
        case resolve
        /// The connection broke or closed without an answer.
        case dropped
        /// The answer was longer than the request allows.
        case tooLarge
        case other
    }

    public var kind: Kind
    /// `host:port` of the agent.
    public var address: String
    /// libcurl's own words.
    public var message: String

    public var description: String { "\(address): \(kind.rawValue): \(message)" }
}
