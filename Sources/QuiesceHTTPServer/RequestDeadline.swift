import NIOCore
import NIOHTTP1

/// When a connection is closed for taking too long: after `timeout` of silence between
/// requests, or `timeout` after the first byte of a request that has not fully arrived (a client
/// sending a header byte every few seconds), but never while its request is being handled, however
/// long a pre-script takes. On shutdown it closes as soon as it is not handling a request.
///
/// Two handlers share it: `RequestStartWatcher` sees the raw bytes (the first byte of a request),
/// `RequestHandler` the decoded request's end and the answer's. Both run on the connection's
/// event loop, which is the only place it is touched.
final class RequestClock {
    enum State {
        /// Between requests: the idle deadline runs.
        case idle
        /// A request has begun to arrive: the deadline from its first byte runs.
        case receiving
        /// The request is complete and its handler runs: no deadline.
        case handling
    }

    private(set) var state = State.idle
    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var shuttingDown = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func started(_ context: ChannelHandlerContext) {
        restart(context)
    }

    func bytesArrived(_ context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .receiving
        restart(context)
    }

    func requestComplete() {
        state = .handling
        deadline?.cancel()
        deadline = nil
    }

    /// The response's last part was written: back to waiting for the next request, or closed
    /// once flushed when shutting down.
    func answered(_ context: ChannelHandlerContext) {
        state = .idle
        restart(context)
    }

    func flushed(_ context: ChannelHandlerContext) {
        if shuttingDown && state == .idle { context.close(promise: nil) }
    }

    func shutDown(_ context: ChannelHandlerContext) {
        shuttingDown = true
        if state != .handling { context.close(promise: nil) }
    }

    func stopped() {
        deadline?.cancel()
        deadline = nil
    }

    private func restart(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, self.state != .handling else { return }
            channel.close(promise: nil)
        }
    }
}

/// Sent through a connection's pipeline when the server shuts down.
struct ConnectionShutdownEvent: Sendable {}

/// In front of the HTTP codec (after TLS): the first byte of each request starts its deadline.
final class RequestStartWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let clock: RequestClock

    init(clock: RequestClock) {
        self.clock = clock
    }

    func handlerAdded(context: ChannelHandlerContext) {
        clock.started(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clock.stopped()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived(context)
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ConnectionShutdownEvent {
            clock.shutDown(context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
