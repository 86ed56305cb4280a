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
        var server = try await bind(connections: connections)
        var pause = Duration.milliseconds(100)
        shutdown.onTrigger {
            let channel = listener.withLock { state in
                state.stopped = true
                return state.channel
            }
            channel?.close(promise: nil)
            connections.shutDown()
        }
        while true {
            let stopped = listener.withLock { state in
                state.channel = server.channel
                return state.stopped
            }
            if stopped { server.channel.close(promise: nil) }
            onListening(server.channel.localAddress?.port ?? address.port)
            do {
                try await accept(on: server, connections: connections, inFlight: inFlight)
            } catch {
                if Task.isCancelled { throw error }
                // An accept error NIO does not absorb (out of descriptors, say) ends the
                // listener; the server listens again after a pause instead of exiting with it.
                CurrentProcess.writeToStandardError(
                    "\(name): the listener failed (\(error)); listening again in \(pause)\n")
            }
            while true {
                if listener.withLock({ $0.stopped }) { return }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(30))
                do {
                    server = try await bind(connections: connections)
                    break
                } catch {
                    CurrentProcess.writeToStandardError(
                        "\(name): cannot listen on \(address) (\(error)); trying again in \(pause)\n")
                }
            }
        }
    }

    /// The listening socket; each connection gets the request deadlines, or is closed at once
    /// (nil) when too many are open.
    private func bind(
        connections: Connections
    ) async throws -> NIOAsyncChannel<Connections.Connection?, Never> {
        let credentials = credentials
        let timeout = TimeAmount.seconds(Int64(limits.requestTimeoutSeconds))
        connections.acceptOpened()
        let server: NIOAsyncChannel<Connections.Connection?, Never> = try await ServerBootstrap(
            group: MultiThreadedEventLoopGroup.singleton
        )
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
        .bind(host: address.host, port: address.port) { channel in
            channel.eventLoop.makeCompletedFuture {
                guard connections.admit(channel) else {
                    channel.close(promise: nil)
                    return nil
                }
                let clock = RequestClock(timeout: timeout)
                let pipeline = channel.pipeline.syncOperations
                // The context in use now: a certificate reloaded on SIGHUP serves the next connection.
                if let tls = credentials.tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
                try pipeline.addHandler(RequestStartWatcher(clock: clock))
                try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                try pipeline.addHandler(RequestEndWatcher(clock: clock))
                let connection = try Connections.Connection(wrappingChannelSynchronously: channel)
                connections.ready(connection)
                return connection
            }
        }
        if loopbackOnly, let bound = server.channel.localAddress, !Loopback.contains(bound) {
            try? await server.channel.close()
            let boundTo = bound.ipAddress ?? "\(bound)"
            throw ListenAddress.Refused(
                "refusing to serve plaintext HTTP: \(address.host) was bound to \(boundTo), which is not a "
                    + "loopback address. Listen on 127.0.0.1 or ::1, or set up TLS")
        }
        return server
    }

    /// Serves every accepted connection until the listener closes.
    private func accept(
        on server: NIOAsyncChannel<Connections.Connection?, Never>, connections: Connections, inFlight: ConcurrencyLimit
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            do {
                try await server.executeThenClose { accepted in
                    for try await connection in accepted {
                        guard let connection else { continue }
                        connections.serving(connection)
                        group.addTask { await serve(connection, inFlight: inFlight) }
                    }
                }
            } catch {
                await connections.acceptClosed()
                throw error
            }
            await connections.acceptClosed()
        }
    }

    /// One connection: requests in order (HTTP/1.1 keep-alive), until the client closes.
    /// A request refused at its head, or whose body outgrows its route's limit, is answered at
    /// once and the connection closed: its body is never wanted, and with `Expect: 100-continue`
    /// the client is waiting for exactly this answer.
    private func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, inFlight: ConcurrencyLimit
    ) async {
        let peer = connection.channel.remoteAddress?.description ?? "unknown"
        try? await connection.executeThenClose { inbound, outbound in
            var pending: PendingRequest?
            let send = { (head: HTTPRequestHead, response: HTTPResponse, keepAlive: Bool, body: [UInt8]?) in
                await answered(
                    AnsweredRequest(
                        method: head.method, path: String(head.uri.prefix { $0 != "?" }), peer: peer,
                        status: response.status.code, body: body))
                var headers = response.headers
                headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
                headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
                try await outbound.write(
                    .head(HTTPResponseHead(version: head.version, status: response.status, headers: headers)))
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
                try await outbound.write(.end(nil))
            }
            for try await part in inbound {
                switch part {
                case .head(let head):
                    switch admit(head) {
                    case .refused(let error):
                        var response = error.response
                        if error.httpStatus == 401 {
                            response.headers.replaceOrAdd(name: "WWW-Authenticate", value: credentials.challenge)
                        }
                        try await send(head, response, false, nil)
                        return
                    case .accepted(let route, let parameters):
                        pending = PendingRequest(head: head, route: route, parameters: parameters)
                        if head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                        }
                    }
                case .body(let chunk):
                    guard var request = pending else { continue }
                    request.append(chunk)
                    if request.isTooLarge {
                        try await send(request.head, Self.tooLarge(request.route).response, false, nil)
                        return
                    }
                    pending = request
                case .end:
                    guard let request = pending else { continue }
                    pending = nil
                    guard
                        let response = await respond(
                            to: request, peer: peer, inFlight: inFlight, channel: connection.channel)
                    else {
                        return
                    }
                    try await send(request.head, response, request.head.isKeepAlive, request.body)
                    if !request.head.isKeepAlive { return }
                }
            }
        }
    }

    /// Decides at the head, before any body is read, whether a request may go on.
    private func admit(_ head: HTTPRequestHead) -> Admission {
        let path = String(head.uri.prefix { $0 != "?" })
        let lookup = router.lookup(head.method, path)
        let open: Bool = if case .found(let route, _) = lookup { !route.requiresAuthentication } else { false }
        guard open || credentials.accepts(authorization: head.headers.first(name: "Authorization")) else {
            return .refused(.unauthorized)
        }
        switch lookup {
        case .notFound:
            return .refused(HTTPError(.notFound, .notFound, "no such route: \(head.method) \(path); see docs/api.md"))
        case .wrongMethod(let allowed):
            return .refused(
                HTTPError(
                    .methodNotAllowed, .methodNotAllowed,
                    "\(path) accepts \(allowed.map { "\($0)" }.joined(separator: ", "))"))
        case .found(let route, let parameters):
            if let length = head.headers.first(name: "Content-Length").flatMap(Int.init), length > route.bodyLimit {
                return .refused(Self.tooLarge(route))
            }
            return .accepted(route, parameters)
        }
    }

    /// The handler's answer; nil when it threw `CloseWithoutAnswer`.
    private func respond(
        to request: PendingRequest, peer: String, inFlight: ConcurrencyLimit, channel: any Channel
    ) async -> HTTPResponse? {
        guard inFlight.enter() else {
            return HTTPError(
                .serviceUnavailable, .busy,
                "\(name) is answering \(limits.maxConcurrentRequests) requests already; retry shortly"
            ).response
        }
        defer { inFlight.leave() }
        if let refusal = await gate(request.route) { return refusal.response }
        let (path, query) = Self.split(request.head.uri)
        let httpRequest = HTTPRequest(
            method: request.head.method, path: path, query: query, headers: request.head.headers, body: request.body,
            peer: peer, parameters: request.parameters, isClientConnected: { channel.isActive })
        do {
            return try await request.route.handler(httpRequest)
        } catch let error as any APIError {
            return error.response
        } catch is CloseWithoutAnswer {
            return nil
        } catch {
            return HTTPError.unexpected(error, by: name).response
        }
    }

    private static func tooLarge(_ route: Route) -> HTTPError {
        HTTPError(
            .payloadTooLarge, .bodyTooLarge, "the body is larger than the \(route.bodyLimit) bytes this route accepts")
    }

    private static func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1)
        let path = parts.first.map(String.init) ?? "/"
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1)
                let key = PercentDecoding.decode(keyValue[0], plusIsSpace: true)
                query[key] = keyValue.count == 2 ? PercentDecoding.decode(keyValue[1], plusIsSpace: true) : ""
            }
        }
        return (path, query)
    }
}

/// What the head of a request decided.
enum Admission: Sendable {
    case accepted(Route, [String: String])
    case refused(HTTPError)
}

/// A request whose body is arriving; a byte beyond the route's limit is kept only to notice it.
struct PendingRequest: Sendable {
    let head: HTTPRequestHead
    let route: Route
    let parameters: [String: String]
    private(set) var body: [UInt8] = []

    init(head: HTTPRequestHead, route: Route, parameters: [String: String]) {
        self.head = head
        self.route = route
        self.parameters = parameters
    }

    var isTooLarge: Bool { body.count > route.bodyLimit }

    mutating func append(_ chunk: ByteBuffer) {
        body += chunk.readableBytesView.prefix(route.bodyLimit + 1 - body.count)
    }
}

/// At most `maximum` requests in handlers at once; the rest are told to retry (503).
final class ConcurrencyLimit: Sendable {
    let maximum: Int
    private let running = Mutex(0)

    init(maximum: Int) { self.maximum = maximum }

    func enter() -> Bool {
        running.withLock { count in
            guard count < maximum else { return false }
            count += 1
            return true
        }
    }

    func leave() { running.withLock { $0 -= 1 } }
}
