import Glibc
import SystemPackage

/// Ends the scripts' process groups when the agent dies. Each script (and the snapshot command)
/// runs in a session and process group of its own, so an agent that is SIGKILLed (an OOM kill,
/// systemd's SIGKILL after `TimeoutStopSec`) would leave it running with no one to stop it: a
/// pre-script holding a database lock, a snapshot command still copying. The sentinel is a small
/// child of the agent told every group as it starts; when its socket from the agent closes, the
/// agent is gone, and it sends SIGTERM to every group still there and SIGKILL after the grace.
///
///     let sentinel = try GroupSentinel.start(executable: self, arguments: ["group-sentinel", ...])
///     let scripts = ScriptRunner(sentinel: sentinel)
public final class GroupSentinel: Sendable {
    private let child: ChildProcess
    /// Our end of its standard input.
    private let commands: CInt

    /// Starts `executable` with `arguments` as the sentinel, with nothing of ours but its stdin.
    public static func start(executable: String, arguments: [String]) throws(SystemError) -> GroupSentinel {
        let ends = try Syscalls.socketPair(subject: "group sentinel")
        defer { Glibc.close(ends.theirs) }
        do {
            let child = try ChildProcess.start(
                [executable] + arguments, environment: [:], stdin: .descriptor(ends.theirs))
            return GroupSentinel(child: child, commands: ends.ours)
        } catch {
            Glibc.close(ends.ours)
            throw error
        }
    }

    private init(child: ChildProcess, commands: CInt) {
        self.child = child
        self.commands = commands
    }

    /// Tells the sentinel about a process group just started. A sentinel that is gone is no
    /// error: the scripts run on, as they would without one.
    public func watch(_ group: pid_t) {
        let line = Array("\(group)\n".utf8)
        _ = line.withUnsafeBytes { Glibc.send(commands, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Closes the socket as the agent's death would, and waits for the sentinel to end the groups
    /// still there and exit.
    public func stop() {
        Glibc.close(commands)
        _ = child.wait()
    }

    // MARK: The sentinel's side

    /// The sentinel's loop: reads group ids, one per line, from standard input until it closes,
    /// forgetting groups that have ended; then SIGTERM to every group left, SIGKILL to those still
    /// there after `grace`. Termination signals are ignored: a Ctrl-C meant for the agent, or
    /// systemd's SIGTERM to the unit, must not take the sentinel before the agent.
    public static func run(grace: Duration) {
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { _ = Glibc.signal(signal, SIG_IGN) }
        var groups = Set<pid_t>()
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var input = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            let ready = poll(&input, 1, 1000)
            if ready < 0 && errno != EINTR { break }
            if ready > 0 {
                let count = Glibc.read(0, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending += chunk[..<count]
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    if let group = pid_t(String(decoding: pending[..<newline], as: UTF8.self)), group > 1 {
                        groups.insert(group)
                    }
                    pending.removeFirst(newline + 1)
                }
            }
            // Forgotten once empty, so that a number the kernel hands out again is never signalled.
            groups = groups.filter { Syscalls.signalGroup($0, 0) }
        }
        end(groups, grace: grace)
    }

    private static func end(_ groups: Set<pid_t>, grace: Duration) {
        var left = groups.filter { Syscalls.signalGroup($0, SIGTERM) }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while !left.isEmpty && ContinuousClock.now < deadline {
            usleep(20_000)
            left = left.filter { Syscalls.signalGroup($0, 0) }
        }
        for group in left { Syscalls.signalGroup(group, SIGKILL) }
    }
}
