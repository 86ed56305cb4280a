import NIOCore
import NIOHTTP1
import QuiesceAPI
import Synchronization

// What the server decides of each request, apart from how its bytes travel (RequestHandler).
extension HTTPServer {
    /// Decides at the head, before any body is read, whether a request may go on.
    func admit(_ head: HTTPRequestHead) -> Admission {
        let path = Self.path(of: head)
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
    func respond(
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

    /// The answer to a request refused before its handler: a 401 challenges as the credentials say.
    func refusal(_ error: HTTPError) -> HTTPResponse {
        var response = error.response
        if error.httpStatus == 401 {
            response.headers.replaceOrAdd(name: "WWW-Authenticate", value: credentials.challenge)
        }
        return response
    }

    static func tooLarge(_ route: Route) -> HTTPError {
        HTTPError(
            .payloadTooLarge, .bodyTooLarge, "the body is larger than the \(route.bodyLimit) bytes this route accepts")
    }

    /// The request's path without its query.
    static func path(of head: HTTPRequestHead) -> String {
        String(head.uri.prefix { $0 != "?" })
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
