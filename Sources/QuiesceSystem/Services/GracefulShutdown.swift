import Synchronization

/// A request to stop, given once: a service watches it to finish what it is doing (thaw, run the
/// post-scripts, close the listener) instead of being cut off, which is what task cancellation
/// means here.
///
///     shutdown.onTrigger { listener.close(promise: nil) }
///     try await shutdown.cancelling { try await watchLeases() }
public final class GracefulShutdown: Sendable {
    private struct State {
        var triggered = false
        var actions: [@Sendable () -> Void] = []
        var waiters: [Int: AsyncStream<Never>.Continuation] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isTriggered: Bool { state.withLock { $0.triggered } }

    /// Asks to stop. The second and later calls do nothing.
    public func trigger() {
        let (actions, waiters) = state.withLock {
            state -> ([@Sendable () -> Void], [AsyncStream<Never>.Continuation]) in
            guard !state.triggered else { return ([], []) }
            state.triggered = true
            defer {
                state.actions = []
                state.waiters = [:]
            }
            return (state.actions, Array(state.waiters.values))
        }
        actions.forEach { $0() }
        waiters.forEach { $0.finish() }
    }

    /// Runs `action` once on trigger, or now if that has happened already. It must not block.
    public func onTrigger(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state in
            if !state.triggered { state.actions.append(action) }
            return state.triggered
        }
        if now { action() }
    }

    /// Returns once triggered, or once the waiting task is cancelled.
    public func wait() async {
        let (stream, continuation) = AsyncStream<Never>.makeStream()
        let waiter = state.withLock { state -> Int? in
            guard !state.triggered else { return nil }
            state.nextWaiter += 1
            state.waiters[state.nextWaiter] = continuation
            return state.nextWaiter
        }
        guard let waiter else { return }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.waiters.removeValue(forKey: waiter) }
        }
        for await _ in stream {}
    }

    /// Runs `body` until it ends or the shutdown is triggered, which cancels it; rethrows what
    /// it throws (`CancellationError` among them).
    public func cancelling(_ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask { await self.wait() }
            defer { group.cancelAll() }
            // The first to end: the body (done), or the trigger (then the body is cancelled).
            try await group.next()
            group.cancelAll()
            try await group.next()
        }
    }
}
