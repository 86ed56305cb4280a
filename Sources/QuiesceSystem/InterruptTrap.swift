import Dispatch
import Glibc

/// SIGINT and SIGTERM (or the signals named) delivered to a handler instead of ending the process:
/// for a command that must remove what it made (the demo's agents, mounts and loop devices)
/// however it is stopped, a daemon's graceful shutdown, SIGHUP's reload.
///
///     let trap = InterruptTrap.install { _ in fleet.stop(); CurrentProcess.exit(130) }
///     defer { trap.remove() }
public struct InterruptTrap {
    private let sources: [any DispatchSourceSignal]

    /// From now on each of the signals runs `handler` (with the signal's number) on a queue of
    /// its own, where it may block.
    public static func install(
        signals: [Int32] = [SIGINT, SIGTERM], _ handler: @escaping @Sendable (Int32) -> Void
    ) -> InterruptTrap {
        InterruptTrap(
            sources: signals.map { number in
                // Ignored until Dispatch installs its own handler, which it does once per signal
                // and process: replacing that handler later (a second trap) would lose the signal.
                var current = sigaction()
                if sigaction(number, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil {
                    signal(number, SIG_IGN)
                }
                let source = DispatchSource.makeSignalSource(
                    signal: number, queue: DispatchQueue(label: "quiesce.signal.\(number)"))
                source.setEventHandler { handler(number) }
                source.resume()
                return source
            })
    }

    /// Stops delivering the signals to the handler. They stay ignored: the command is ending, or
    /// installs a trap again (the agent restarting its services once enrolled).
    public func remove() {
        sources.forEach { $0.cancel() }
    }
}
