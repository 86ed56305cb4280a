import NIOCore
import Synchronization

/// A server's open connections: at most `maximum` at once (the excess is closed as it is
/// accepted, before a byte is read), and on shutdown each is told to close as soon as it is not
/// handling a request, so a lingering keep-alive client cannot keep a stopped server alive.
final class Connections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var stopping = false
        /// Waiting for the last connection to close.
        var waiters: [CheckedContinuation<Void, Never>] = []
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
            state.open[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in self?.closed(id) }
        }
        return admitted
    }

    /// No connection is taken from now on, and every open one closes once its current request,
    /// if any, is answered.
    func shutDown() {
        let channels = state.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(ConnectionShutdownEvent()) }
    }

    /// Closes every connection now, answered or not: the server was cancelled.
    func closeAll() {
        let channels = state.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    /// Returns once no connection is open (after `shutDown` or `closeAll`).
    func allClosed() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.open.isEmpty { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func closed(_ id: ObjectIdentifier) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open.removeValue(forKey: id)
            guard state.open.isEmpty else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
