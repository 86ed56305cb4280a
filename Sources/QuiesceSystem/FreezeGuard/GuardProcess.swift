import FoundationEssentials
import Glibc
import Synchronization
import SystemPackage

/// The agent's side of a running freeze guard: its pid, the socket on its standard input
/// (closing it tells the guard the agent is gone) and the JSON lines it reports.
///
/// Commands go over a socket (`Syscalls.socketPair`), so a guard that already exited cannot
/// kill the agent with SIGPIPE.
public final class GuardProcess: Sendable {
    private let child: ChildProcess
    private let commands: CInt
    private let reports: CInt
    private let buffer = Mutex<[UInt8]>([])

    /// Starts `executable` with `arguments` as a guard, with an empty environment and nothing
    /// of ours but its two pipes. Its stderr goes to /dev/null: a guard must not write anywhere
    /// that might be frozen.
    public static func start(executable: String, arguments: [String]) throws(SystemError) -> GuardProcess {
        let toGuard = try Syscalls.socketPair(subject: "freeze guard")
        let fromGuard: (CInt, CInt)
        do {
            fromGuard = try makePipe()
        } catch {
            Glibc.close(toGuard.0)
            Glibc.close(toGuard.1)
            throw error
        }
        defer {
            Glibc.close(toGuard.0)
            Glibc.close(fromGuard.1)
        }
        do {
            let child = try ChildProcess.start(
                [executable] + arguments, environment: [:], stdin: .descriptor(toGuard.0),
                stdout: .descriptor(fromGuard.1))
            return GuardProcess(child: child, commands: toGuard.1, reports: fromGuard.0)
        } catch {
            Glibc.close(toGuard.1)
            Glibc.close(fromGuard.0)
            throw error
        }
    }

    private init(child: ChildProcess, commands: CInt, reports: CInt) {
        self.child = child
        self.commands = commands
        self.reports = reports
    }

    public var pid: pid_t { child.pid }

    /// The guard's next report, or nil when it closed its output (it died) or said nothing
    /// within `timeout`.
    public func nextEvent(within timeout: Duration) async -> GuardEvent? {
        // On a thread of its own: blocking one of Dispatch's global threads would stall Swift's
        // cooperative pool, which runs on them.
        await OwnThread.run { self.readEvent(until: ContinuousClock.now.advanced(by: timeout)) }
    }

    /// Asks the guard to thaw now; a guard that is gone already is no error.
    public func requestThaw() {
        let command = Array("thaw\n".utf8)
        _ = command.withUnsafeBytes { Glibc.send(commands, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Closes both pipes (a guard still holding a freeze thaws at once) and reaps the guard in
    /// the background, however long it takes to exit.
    public func finish() {
        Glibc.close(commands)
        Glibc.close(reports)
        let child = child
        pthread_detach(Thread.start { child.wait() })
    }

    private func readEvent(until deadline: ContinuousClock.Instant) -> GuardEvent? {
        while true {
            if let line = buffer.withLock({ Self.takeLine(&$0) }) {
                return try? JSONDecoder().decode(GuardEvent.self, from: Data(line))
            }
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            var polled = pollfd(fd: reports, events: Int16(POLLIN), revents: 0)
            let ready = poll(&polled, 1, Int32(clamping: Int((left / .milliseconds(1)).rounded(.up))))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = Glibc.read(reports, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            buffer.withLock { $0 += chunk[..<count] }
        }
    }

    private static func takeLine(_ buffer: inout [UInt8]) -> [UInt8]? {
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = Array(buffer[..<newline])
        buffer.removeFirst(newline + 1)
        return line
    }

    /// Close-on-exec from the start (pipe2): the agent's ends must never leak into a script it
    /// starts, since a script holding the command pipe open would hide the agent's death from
    /// the guard. `posix_spawn`'s dup2 clears the flag on the guard's own ends.
    private static func makePipe() throws(SystemError) -> (CInt, CInt) {
        do {
            let ends = try FileDescriptor.pipe(options: FileDescriptor.PipeOptions(rawValue: O_CLOEXEC))
            return (ends.readEnd.rawValue, ends.writeEnd.rawValue)
        } catch {
            throw SystemError(call: "pipe2", subject: "freeze guard", errno: error)
        }
    }
}
