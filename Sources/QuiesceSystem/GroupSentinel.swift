import Glibc
import SystemPackage

/// Ends the scripts' process groups when the agent dies. Each script (and the snapshot command)
/// runs in a session and process group of its own, so an agent that is SIGKILLed (an OOM kill,
/// systemd's SIGKILL after `TimeoutStopSec`) would leave it running with no one to stop it: a
/// pre-script holding a database lock, a snapshot command still copying. The sentinel is a small
/// child of the agent told every group as it starts; when its socket from the agent closes, the
/// agent is gone, and it sends SIGTERM to every group still there and SIGKILL after the grace.
///
/// Being told comes a moment after the spawn, and an agent killed in that moment would leave the
/// script unwatched; so every script also carries the sentinel's marker in its environment
/// (`QUIESCE_AGENT_INSTANCE`), inherited by what it starts, and the sentinel ends the groups of
/// every process that carries it as well.
///
///     let sentinel = try GroupSentinel.start(executable: self, subcommand: "group-sentinel", grace: .seconds(5))
///     let scripts = ScriptRunner(sentinel: sentinel)
public final class GroupSentinel: Sendable {
    /// The environment variable that marks a script as this agent's.
    public static let markerVariable = "QUIESCE_AGENT_INSTANCE"

    /// This agent run's marker: random, so that no other run's scripts carry it.
    public let marker: String
    private let child: ChildProcess
    /// Our end of its standard input.
    private let commands: CInt

    /// Starts `executable subcommand --grace-seconds N --marker M` as the sentinel, with nothing
    /// of ours but its stdin.
    public static func start(executable: String, subcommand: String, grace: Duration) throws(SystemError)
        -> GroupSentinel
    {
        var generator = SystemRandomNumberGenerator()
        let marker = (0..<4).map { _ in String(generator.next() as UInt32, radix: 16) }.joined(separator: "-")
        let ends = try Syscalls.socketPair(subject: "group sentinel")
        defer { Glibc.close(ends.theirs) }
        do {
            let child = try ChildProcess.start(
                [executable, subcommand, "--grace-seconds", "\(grace.components.seconds)", "--marker", marker],
                environment: [:], stdin: .descriptor(ends.theirs))
            return GroupSentinel(marker: marker, child: child, commands: ends.ours)
        } catch {
            Glibc.close(ends.ours)
            throw error
        }
    }

    private init(marker: String, child: ChildProcess, commands: CInt) {
        self.marker = marker
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
    /// forgetting groups that have ended; then SIGTERM to every group left and to the groups of
    /// every process carrying `marker`, SIGKILL to those still there after `grace`. Termination
    /// signals are ignored: a Ctrl-C meant for the agent, or systemd's SIGTERM to the unit, must
    /// not take the sentinel before the agent.
    public static func run(grace: Duration, marker: String) {
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
        end(groups, marked: "\(markerVariable)=\(marker)", grace: grace)
    }

    private static func end(_ watched: Set<pid_t>, marked: String, grace: Duration) {
        var left = watched.union(groups(carrying: marked)).filter { Syscalls.signalGroup($0, SIGTERM) }
        let deadline = ContinuousClock.now.advanced(by: grace)
        while !left.isEmpty && ContinuousClock.now < deadline {
            usleep(20_000)
            left = left.filter { Syscalls.signalGroup($0, 0) }
        }
        for group in left.union(groups(carrying: marked)) { Syscalls.signalGroup(group, SIGKILL) }
    }

    /// The process groups of the processes whose environment holds `entry` (`NAME=value`).
    private static func groups(carrying entry: String) -> Set<pid_t> {
        // Whole entries only: NUL-separated, so it is either first or follows a NUL.
        let wanted = Array(entry.utf8) + [0]
        var found = Set<pid_t>()
        let pids = ((try? DirectoryListing.names(in: "/proc")) ?? []).compactMap { pid_t($0) }
        for pid in pids where pid != getpid() {
            guard let environment = try? FileReader.read("/proc/\(pid)/environ"),
                environment.starts(with: wanted) || environment.contains([0] + wanted)
            else { continue }
            let group = getpgid(pid)
            if group > 1 { found.insert(group) }
        }
        return found
    }
}
