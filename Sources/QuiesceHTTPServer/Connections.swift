import NIOCore
import NIOHTTP1
import Synchronization

/// A server's open connections: at most `maximum` at once (the excess is closed as it is
/// accepted, before a byte is read), and on shutdown each is told to close as soon as it is not
/// handling a request, so a lingering keep-alive client cannot keep a stopped server alive.
///
/// It also sees that every accepted connection is served or closed: one accepted just as the
/// listener closes never reaches the accept loop, and NIO traps on an async channel dropped
/// without being closed.
final class Connections: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    private struct Slot {
        var channel: any Channel
        var connection: Connection?
        var served = false
    }

    private struct State {
        var open: [ObjectIdentifier: Slot] = [:]
        /// No accept loop takes connections right now.
        var acceptClosed = false
        var stopping = false
    }

    let maximum: Int
    private let state = Mutex(State())

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes `channel` in, or says no when `maximum` are open already or the server is stopping.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard !state.stopping, state.open.count < maximum else { return false }
            state.open[id] = Slot(channel: channel)
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in
                self?.state.withLock { _ = $0.open.removeValue(forKey: id) }
            }
        }
        return admitted
    }

    /// The admitted channel is ready to serve as `connection`. If no accept loop will take it,
    /// it is closed here.
    func ready(_ connection: Connection) {
        let orphaned = state.withLock { state in
            state.open[ObjectIdentifier(connection.channel)]?.connection = connection
            return state.acceptClosed
        }
        if orphaned { Task { try? await connection.executeThenClose { _, _ in } } }
    }

    /// The accept loop took `connection`.
    func serving(_ connection: Connection) {
        state.withLock { $0.open[ObjectIdentifier(connection.channel)]?.served = true }
    }

    /// An accept loop starts taking connections.
    func acceptOpened() {
        state.withLock { $0.acceptClosed = false }
    }

    /// The accept loop ended: the connections it never took are closed.
    func acceptClosed() async {
        let orphans = state.withLock { state in
            state.acceptClosed = true
            return state.open.values.filter { !$0.served }.compactMap(\.connection)
        }
        for connection in orphans { try? await connection.executeThenClose { _, _ in } }
    }

    /// No connection is taken from now on, and every open one closes once its current request,
    /// if any, is answered.
    func shutDown() {
        let channels = state.withLock { state in
            state.stopping = true
            return state.open.values.map(\.channel)
        }
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(ConnectionShutdownEvent()) }
    }
}
