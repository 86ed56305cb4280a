import Glibc

/// A long-running part of a daemon: the agent's HTTP server, its session keeper.
public protocol Service: Sendable {
    /// Runs until `shutdown` is triggered, then finishes its work and returns; cancelled, it
    /// stops at once.
    func run(shutdown: GracefulShutdown) async throws
}

/// Runs services together until SIGTERM or SIGINT (or `triggerGracefulShutdown`), then shuts
/// them down gracefully one at a time in reverse order, each finishing before the one before it
/// is asked: the agent's session keeper thaws and runs the post-scripts while its server still
/// answers. A service that ends or fails by itself ends the others (cancelled) and the error is
/// rethrown.
///
///     try await ServiceRunner(services: [server, sessionKeeper]).run()
public struct ServiceRunner: Sendable {
    public var services: [any Service]
    /// Delivered to the runner instead of ending the process, while it runs.
    public var signals: [Int32] = [SIGTERM, SIGINT]
    /// After this, what has not finished shutting down is cancelled (nil: no limit).
    public var shutdownDeadline: Duration?
    private let requested = GracefulShutdown()

    public init(services: [any Service], shutdownDeadline: Duration? = nil) {
        self.services = services
        self.shutdownDeadline = shutdownDeadline
    }

    /// Asks for the graceful shutdown a signal would have started.
    public func triggerGracefulShutdown() { requested.trigger() }

    private enum Event: Sendable {
        case serviceEnded(Int)
        case shutdownRequested
        case deadlinePassed
    }

    public func run() async throws {
        let requested = requested
        let trap = signals.isEmpty ? nil : InterruptTrap.install(signals: signals) { _ in requested.trigger() }
        defer { trap?.remove() }
        let shutdowns = services.map { _ in GracefulShutdown() }
        try await withThrowingTaskGroup(of: Event.self) { group in
            for (index, service) in services.enumerated() {
                group.addTask {
                    try await service.run(shutdown: shutdowns[index])
                    return .serviceEnded(index)
                }
            }
            group.addTask {
                await requested.wait()
                return .shutdownRequested
            }
            defer { group.cancelAll() }
            guard case .shutdownRequested = try await group.next() else { return }
            if let shutdownDeadline {
                group.addTask {
                    try? await Task.sleep(for: shutdownDeadline)
                    return .deadlinePassed
                }
            }
            var ended = Set<Int>()
            for index in services.indices.reversed() {
                shutdowns[index].trigger()
                while !ended.contains(index), let event = try await group.next() {
                    switch event {
                    case .serviceEnded(let service): ended.insert(service)
                    case .shutdownRequested: break
                    case .deadlinePassed:
                        // What the cancelled services throw now is their cancellation.
                        group.cancelAll()
                        while case .some = try? await group.next() {}
                        throw ShutdownDeadlinePassed(deadline: shutdownDeadline ?? .zero)
                    }
                }
            }
        }
    }
}

/// Services were still shutting down at the deadline and have been cancelled.
public struct ShutdownDeadlinePassed: Error, CustomStringConvertible {
    public let deadline: Duration
    public var description: String { "still shutting down after \(deadline): cancelled" }
}
