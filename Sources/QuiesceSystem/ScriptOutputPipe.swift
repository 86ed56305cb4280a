import Glibc
import Synchronization

/// A script's standard output or error: a pipe whose write end the script gets and whose read
/// end this process drains as the script writes, keeping the tail.
///
/// Why not the process library's own streams: a script may leave a background process holding
/// the pipe (a database quiesce holding its lock until the post-script), and then the pipe never
/// reaches its end. Here the drain stops once the script has exited and the pipe has been quiet
/// for a moment, whoever still holds it, so a holder never keeps the agent waiting.
final class ScriptOutputPipe: Sendable {
    /// Given to the script; this process closes its copy once the script has exited.
    let writeEnd: Int32
    private let readEnd: Int32
    private let scriptExited = Mutex(false)

    /// How long a pipe must stay quiet after the script's exit before its holders are abandoned.
    static let quietAfterExit = Duration.milliseconds(50)

    init() throws(SystemError) {
        (readEnd, writeEnd) = try Syscalls.closeOnExecPipe(subject: "a script's output")
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
    }

    /// The script has exited: this process's write end goes, and the drain ends at the pipe's end
    /// or once it has been quiet for `quietAfterExit`.
    func scriptHasExited() {
        scriptExited.withLock { $0 = true }
        close(writeEnd)
    }

    /// Reads until the end described above, then closes the read end. Polls: a script's output
    /// is read within a few milliseconds, and nothing waits on a descriptor a holder keeps.
    func drain(limit: Int) async -> OutputTail {
        var tail = OutputTail(limit: limit)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var quietSince: ContinuousClock.Instant?
        defer { close(readEnd) }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                buffer.withUnsafeBytes { tail.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                quietSince = nil
                continue
            }
            if count == 0 { return tail }
            let error = errno
            if error == EINTR { continue }
            guard error == EAGAIN || error == EWOULDBLOCK else { return tail }
            if scriptExited.withLock({ $0 }) {
                let now = ContinuousClock.now
                if let quietSince, now - quietSince >= Self.quietAfterExit { return tail }
                quietSince = quietSince ?? now
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
