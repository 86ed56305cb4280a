import QuiesceCoordinator
import QuiesceSystem
import Synchronization

/// A one-line progress bar on standard error, only when it is a terminal: piped output and
/// logs stay clean. Redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let label: String
    private let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    private init(label: String) { self.label = label }

    /// A `FleetProgress` that draws, or nil when standard error is not a terminal.
    static func fleetProgress(_ label: String, total: Int) -> FleetProgress? {
        guard CurrentProcess.isTerminal(2), total > 1 else { return nil }
        let bar = ProgressBar(label: label)
        return FleetProgress(total: total) { done, total in bar.draw(done: done, total: total) }
    }

    /// Clears the bar so the report starts on a clean line.
    static func clear(_ progress: FleetProgress?) {
        guard progress != nil else { return }
        CurrentProcess.writeToStandardError("\r\u{1B}[2K")
    }

    private func draw(done: Int, total: Int) {
        let now = ContinuousClock.now
        // Drawn under the lock, so two completions never interleave their bars.
        lastDraw.withLock { last in
            guard done == total || last.map({ now - $0 >= .milliseconds(100) }) ?? true else { return }
            last = now
            let width = 30
            let filled = total == 0 ? width : done * width / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            CurrentProcess.writeToStandardError("\r\u{1B}[2K\(label) [\(bar)] \(done)/\(total)")
        }
    }
}
