import Glibc
import Synchronization
import SystemPackage

/// A program started in the background that outlives the call that started it: the freeze
/// guard, the demo's agents and its writer. Scripts, which run to an end under a budget with
/// their output streamed, go through `ScriptRunner` instead.
///
///     let agent = try ChildProcess.start(["/usr/bin/quiesce-agent", "serve"], stderr: .file("agent.log"))
///     defer { agent.stop(grace: .seconds(15)) }
public final class ChildProcess: Sendable {
    public let pid: pid_t
    private let exit = Mutex<Termination?>(nil)

    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        case null
        /// Created or truncated, mode 0600.
        case file(String)
        /// A descriptor of ours, which stays open here.
        case descriptor(CInt)
        /// Standard error only: wherever standard output goes.
        case standardOutput
    }

    /// How a child ended.
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        /// Reaped by someone else, so how it ended is unknown.
        case vanished

        public var description: String {
            switch self {
            case .exited(let status): "exit \(status)"
            case .signaled(let signal): "killed by signal \(signal)"
            case .vanished: "reaped elsewhere"
            }
        }
    }

    /// Starts `arguments[0]` (looked up in `PATH` when it has no slash) with default signal
    /// handling whatever ours is, and no descriptor of ours but the three it is given: an
    /// inherited socket (NIO accepts without close-on-exec) would keep a connection open for
    /// as long as the child lives. `environment` nil means ours.
    public static func start(
        _ arguments: [String], environment: [String: String]? = nil, stdin: Stream = .null, stdout: Stream = .null,
        stderr: Stream = .null
    ) throws(SystemError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        redirect(0, to: stdin, flags: O_RDONLY, in: &actions)
        redirect(1, to: stdout, flags: O_WRONLY | O_CREAT | O_TRUNC, in: &actions)
        redirect(2, to: stderr, flags: O_WRONLY | O_CREAT | O_TRUNC, in: &actions)
        closeFrom(3, in: &actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { (argv + (envp ?? [])).forEach { free($0) } }
        var pid: pid_t = 0
        let result =
            if let envp { posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp) } else {
                posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
            }
        guard result == 0 else {
            throw SystemError(call: "posix_spawn", subject: arguments[0], errno: Errno(rawValue: result))
        }
        return ChildProcess(pid: pid)
    }

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Runs `arguments` to its end and returns how it ended with everything it wrote to standard
    /// output and standard error, interleaved, for the system tools (mkfs, mount, losetup) a
    /// caller without an async context needs. The output goes to an unlinked temporary file, not
    /// a pipe: a pipe would also wait for every grandchild that holds it.
    public static func run(_ arguments: [String]) throws(SystemError) -> (Termination, String) {
        var template = Array("/tmp/quiesce-output.XXXXXX".utf8CString)
        let fd: CInt = try Syscalls.retryingOnInterrupt("mkstemp", "/tmp") {
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            return (fd, fd < 0)
        }
        defer { Syscalls.close(fd) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let termination = try start(arguments, stdout: .descriptor(fd), stderr: .standardOutput).wait()
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var offset: off_t = 0
        while true {
            let count = try Syscalls.retryingOnInterrupt("pread", arguments[0] + "'s output") {
                let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
                return (count, count < 0)
            }
            if count == 0 { break }
            output += chunk[..<count]
            offset += off_t(count)
        }
        return (termination, String(decoding: output, as: UTF8.self))
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { reap() == nil }

    /// Sends `signal` to the child; one that exited already is no error. Under the lock, so the
    /// pid cannot be reaped (and reused) between the check and the kill.
    public func signal(_ signal: Int32) {
        exit.withLock { termination in
            if termination == nil { _ = kill(pid, signal) }
        }
    }

    /// Blocks until the child exits and says how. It waits without reaping (WNOWAIT) and reaps
    /// under the lock, so other threads can still signal it or ask meanwhile.
    @discardableResult
    public func wait() -> Termination {
        while true {
            if let termination = reap() { return termination }
            var info = siginfo_t()
            _ = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
        }
    }

    /// How the child ended, reaping it if it just did; nil while it runs.
    private func reap() -> Termination? {
        exit.withLock { termination in
            if let termination { return termination }
            var status: Int32 = 0
            switch waitpid(pid, &status, WNOHANG) {
            case pid: termination = Self.termination(status)
            case -1 where errno == ECHILD: termination = .vanished
            default: return nil
            }
            return termination
        }
    }

    /// SIGTERM, up to `grace` to exit, then SIGKILL; returns once the child is gone.
    @discardableResult
    public func stop(grace: Duration) -> Termination {
        signal(SIGTERM)
        let deadline = ContinuousClock.now.advanced(by: grace)
        while isRunning && ContinuousClock.now < deadline { CurrentProcess.sleep(for: .milliseconds(20)) }
        signal(SIGKILL)
        return wait()
    }

    private static func termination(_ status: Int32) -> Termination {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    private static func redirect(
        _ fd: CInt, to stream: Stream, flags: CInt, in actions: inout posix_spawn_file_actions_t
    ) {
        switch stream {
        case .null: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, fd, path, flags, 0o600)
        case .descriptor(let source): posix_spawn_file_actions_adddup2(&actions, source, fd)
        case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, fd)
        }
    }

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34) is not exported to Swift; it is
    /// looked up at run time instead. On an older glibc every descriptor of ours from `fd` on is
    /// marked close-on-exec instead, which no child of ours should inherit anyway.
    private static func closeFrom(_ fd: Int32, in actions: inout posix_spawn_file_actions_t) {
        typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np"),
            unsafeBitCast(symbol, to: AddCloseFrom.self)(&actions, fd) == 0
        else {
            markCloseOnExec(from: fd)
            return
        }
    }

    /// Sets FD_CLOEXEC on every open descriptor from `first` on, as /proc/self/fd lists them.
    static func markCloseOnExec(from first: Int32) {
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let fd = Int32(name), fd >= first, fd != own else { continue }
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
    }
}
