import Dispatch
import Glibc

/// SIGINT and SIGTERM delivered to a handler instead of ending the process, for a command that
/// must remove what it made (the demo's agents, mounts and loop devices) however it is stopped.
///
///     let trap = InterruptTrap.install { _ in fleet.stop(); CurrentProcess.exit(130) }
///     defer { trap.remove() }
public struct InterruptTrap {
    private let sources: [any DispatchSourceSignal]

    /// From now on each of the two signals runs `handler` (with the signal's number) on a queue
    /// of its own, where it may block.
    public static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> InterruptTrap {
        InterruptTrap(
            sources: [SIGINT, SIGTERM].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(
                    signal: number, queue: DispatchQueue(label: "quiesce.signal.\(number)"))
                source.setEventHandler { handler(number) }
                source.resume()
                return source
            })
    }

    /// Stops delivering the signals to the handler (they stay ignored: the command is ending).
    public func remove() {
        sources.forEach { $0.cancel() }
    }
}
