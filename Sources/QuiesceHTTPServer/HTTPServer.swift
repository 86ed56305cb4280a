import FoundationEssentials
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import QuiesceAPI
import QuiesceSystem
import Synchronization

/// Who may call a server's closed routes, and its TLS: the agent's tokens and certificate, the
/// coordinator's dashboard token.
public protocol ServerCredentials: Sendable {
    /// The context for the next connection; nil for plaintext.
    var tls: NIOSSLContext? { get }
    /// Whether an `Authorization` header (or a client certificate the handshake required) lets
    /// the request in.
    func accepts(authorization: String?) -> Bool
    /// The `WWW-Authenticate` challenge of a 401: `Basic` makes a browser ask for the secret.
    var challenge: String { get }
}

extension ServerCredentials {
    public var challenge: String { "Bearer" }
}

/// A request the server answered, as its `answered` hook sees it: for metrics and the audit log.
public struct AnsweredRequest: Sendable {
    public var method: HTTPMethod
    /// Without the query.
    public var path: String
    public var peer: String
    public var status: UInt
    /// The body as received; nil when the request was refused before it was read.
    public var body: [UInt8]?
}

/// The HTTP server of `quiesce-agent serve` and `quiesce serve`, on plain SwiftNIO, as a `Service`.
///
/// Every request is authenticated before its route is even looked up (except open routes such
/// as `/v1/health`), its body is bounded by the route's limit as it arrives, and at most
/// `limits.maxConcurrentRequests` run at once. `Expect: 100-continue` is answered, so curl's
/// uploads do not wait a second for it.
public struct HTTPServer: Service {
    public struct Limits: Sendable {
        public var maxConnections: Int
        public var maxConcurrentRequests: Int
        /// For a request's head and body to arrive, and between requests on a kept-alive connection.
        public var requestTimeoutSeconds: Int

        public init(maxConnections: Int, maxConcurrentRequests: Int, requestTimeoutSeconds: Int) {
            self.maxConnections = maxConnections
            self.maxConcurrentRequests = maxConcurrentRequests
            self.requestTimeoutSeconds = requestTimeoutSeconds
        }
    }

    /// In messages: "quiesce-agent", "quiesce serve".
    public let name: String
    public let address: ListenAddress
    /// Public and replaceable, so a wrapper (the fleet simulator's faults) can decorate handlers.
    public var router: Router
    public let credentials: any ServerCredentials
    public let limits: Limits
    /// Asked before a handler runs; an error answers instead (the agent refuses pushes while a
    /// snapshot session is under way).
    public var gate: @Sendable (Route) async -> HTTPError? = { _ in nil }
    /// Told of every answer once it is decided.
    public var answered: @Sendable (AnsweredRequest) async -> Void = { _ in }
    /// Called with the bound port once listening (useful with port 0).
    public var onListening: @Sendable (Int) -> Void = { _ in }
    /// Plaintext is allowed on loopback only: the address the name was bound to is checked too,
    /// since `localhost` may resolve elsewhere.
    public var loopbackOnly = false

    public init(
        name: String, address: ListenAddress, router: Router, credentials: any ServerCredentials, limits: Limits
    ) {
        self.name = name
        self.address = address
        self.router = router
        self.credentials = credentials
        self.limits = limits
    }

    public func run(shutdown: GracefulShutdown) async throws {
        let connections = Connections(maximum: limits.maxConnections)
        let inFlight = ConcurrencyLimit(maximum: limits.maxConcurrentRequests)
        // The listener and whether shutdown began, under one lock: a listener bound after the
        // shutdown began is closed at once.
        let listener = Mutex<(channel: (any Channel)?, stopped: Bool)>((nil, false))
        var server = try await bind(connections: connections, inFlight: inFlight)
        var pause = Duration.milliseconds(100)
        shutdown.onTrigger {
            let channel = listener.withLock { state in
                state.stopped = true
                return state.channel
            }
            channel?.close(promise: nil)
            connections.shutDown()
        }
        try await withTaskCancellationHandler {
            while true {
                let stopped = listener.withLock { state in
                    state.channel = server
                    return state.stopped
                }
                if stopped { server.close(promise: nil) }
                onListening(server.localAddress?.port ?? address.port)
                try? await server.closeFuture.get()
                try Task.checkCancellation()
                if listener.withLock({ $0.stopped }) { break }
                // The listener closed by itself (NIO backs off accept errors such as running out of
                // descriptors, so this is rare): listen again after a pause rather than exit.
                CurrentProcess.writeToStandardError("\(name): the listener closed; listening again in \(pause)\n")
                while true {
                    try await Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(30))
                    if listener.withLock({ $0.stopped }) { break }
                    do {
                        server = try await bind(connections: connections, inFlight: inFlight)
                        break
                    } catch {
                        CurrentProcess.writeToStandardError(
                            "\(name): cannot listen on \(address) (\(error)); trying again in \(pause)\n")
                    }
                }
            }
            await connections.allClosed()
        } onCancel: {
            listener.withLock { state in
                state.stopped = true
                return state.channel
            }?.close(promise: nil)
            connections.closeAll()
        }
    }

    /// The listening socket; each connection gets the request deadlines and a `RequestHandler`,
    /// or is closed at once when too many are open.
    private func bind(connections: Connections, inFlight: ConcurrencyLimit) async throws -> any Channel {
        let server = self
        let timeout = TimeAmount.seconds(Int64(limits.requestTimeoutSeconds))
        let listening = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard connections.admit(channel) else {
                        channel.close(promise: nil)
                        return
                    }
                    let clock = RequestClock(timeout: timeout)
                    let pipeline = channel.pipeline.syncOperations
                    // The context in use now: a certificate reloaded on SIGHUP serves the next connection.
                    if let tls = server.credentials.tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                    try pipeline.addHandler(RequestStartWatcher(clock: clock))
                    try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                    try pipeline.addHandler(RequestHandler(server: server, inFlight: inFlight, clock: clock))
                }
            }
            .bind(host: address.host, port: address.port).get()
        if loopbackOnly, let bound = listening.localAddress, !Loopback.contains(bound) {
            try? await listening.close()
            let boundTo = bound.ipAddress ?? "\(bound)"
            throw ListenAddress.Refused(
                "refusing to serve plaintext HTTP: \(address.host) was bound to \(boundTo), which is not a "
                    + "loopback address. Listen on 127.0.0.1 or ::1, or set up TLS")
        }
        return listening
    }
}
