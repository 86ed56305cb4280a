import Glibc
import QuiesceSystem

/// The application of the demo and of the consistency proof: appends k to `seq.log` on the
/// first disk, then the second, then the third..., fsync after each, for k = 1, 2, 3... without
/// pause. A consistent cut of the disks must therefore show, for every k on a later disk, k on
/// every earlier one. It is its own process: a write to a frozen disk blocks it, not us.
public final class SequenceWriter: Sendable {
    private let process: ChildProcess

    public init(disks: [String]) throws {
        let writes = disks.map { "echo $k >> '\($0)/seq.log' && sync '\($0)/seq.log'" }.joined(separator: " && ")
        process = try ChildProcess.start(["/bin/sh", "-c", "k=1; while :; do \(writes) || exit 1; k=$((k + 1)); done"])
    }

    public var processIdentifier: Int32 { process.pid }

    /// Stops the writer and waits for it. If a disk is still frozen the writer sleeps in the
    /// kernel until the thaw; SIGKILL lands then.
    public func stop() {
        process.signal(SIGKILL)
        process.wait()
    }
}
