import NIOCore
import NIOHTTP1

/// One connection's requests, on its event loop: a head is admitted or refused as it arrives, a
/// body gathered up to its route's limit, and a complete request handed to its route in a task
/// whose answer is written back on the loop. Requests on a kept-alive connection come one at a
/// time: `HTTPServerPipelineHandler`, in front, holds the next until this one is answered.
///
/// A request refused at its head, or whose body outgrows its route's limit, is answered at once
/// and the connection closed: its body is never wanted, and with `Expect: 100-continue` the client
/// is waiting for exactly this answer.
///
/// A channel handler rather than an async channel per connection: a fleet sweep opens a
/// connection per agent, and bridging each into structured concurrency was a quarter of the
/// simulated agents' CPU (docs/design.md, "Ten thousand agents").
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a head.
        case idle
        case receiving(PendingRequest)
        /// The route's task has the request.
        case handling
        /// Answered with a close: whatever else arrives is dropped.
        case closing
    }

    private let server: HTTPServer
    private let inFlight: ConcurrencyLimit
    /// Told when a request has fully arrived and when its answer is written.
    private let clock: RequestClock
    private var state = State.idle
    private var peer = "unknown"
    /// While in the pipeline: an answer that comes after the connection is gone is not written.
    private var context: ChannelHandlerContext?

    init(server: HTTPServer, inFlight: ConcurrencyLimit, clock: RequestClock) {
        self.server = server
        self.inFlight = inFlight
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress?.description ?? "unknown"
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .idle = state else { return }
            switch server.admit(head) {
            case .refused(let error):
                refuse(head, error, context: context)
            case .accepted(let route, let parameters):
                state = .receiving(PendingRequest(head: head, route: route, parameters: parameters))
                if head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    let interim = HTTPResponseHead(version: head.version, status: .continue)
                    context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
                }
            }
        case .body(let chunk):
            guard case .receiving(var request) = state else { return }
            // The pending copy is dropped first, so the append does not copy the whole body.
            state = .handling
            request.append(chunk)
            if request.isTooLarge {
                refuse(request.head, HTTPServer.tooLarge(request.route), context: context)
            } else {
                state = .receiving(request)
            }
        case .end:
            clock.requestComplete()
            guard case .receiving(let request) = state else { return }
            state = .handling
            handle(request, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Runs the route in a task, then writes its answer on the loop; nil from `respond` (the
    /// handler threw `CloseWithoutAnswer`) closes the connection unanswered.
    private func handle(_ request: PendingRequest, context: ChannelHandlerContext) {
        let server = server
        let inFlight = inFlight
        let peer = peer
        let channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            let answer = await server.respond(to: request, peer: peer, inFlight: inFlight, channel: channel)
            guard let response = answer else {
                channel.close(promise: nil)
                return
            }
            await RequestHandler.deliver(
                response, to: request.head, keepAlive: request.head.isKeepAlive, body: request.body, peer: peer,
                server: server, bound: bound)
        }
    }

    /// Answers `error` and closes.
    private func refuse(_ head: HTTPRequestHead, _ error: HTTPError, context: ChannelHandlerContext) {
        state = .closing
        let response = server.refusal(error)
        let server = server
        let peer = peer
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            await RequestHandler.deliver(
                response, to: head, keepAlive: false, body: nil, peer: peer, server: server, bound: bound)
        }
    }

    /// Tells the `answered` hook, then writes the answer on the connection's loop.
    private static func deliver(
        _ response: HTTPResponse, to head: HTTPRequestHead, keepAlive: Bool, body: [UInt8]?, peer: String,
        server: HTTPServer, bound: NIOLoopBound<RequestHandler>
    ) async {
        await server.answered(
            AnsweredRequest(
                method: head.method, path: HTTPServer.path(of: head), peer: peer, status: response.status.code,
                body: body))
        bound.eventLoop.execute { bound.value.write(response, to: head, keepAlive: keepAlive) }
    }

    private func write(_ response: HTTPResponse, to head: HTTPRequestHead, keepAlive: Bool) {
        guard let context else { return }
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
            promise: nil)
        context.write(
            wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: response.body)))),
            promise: nil)
        clock.answered(context)
        guard keepAlive else {
            state = .closing
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        state = .idle
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        clock.flushed(context)
    }
}
