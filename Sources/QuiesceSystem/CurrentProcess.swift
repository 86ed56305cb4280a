import Glibc

/// Facts about the running process, and the few things it does to itself.
public enum CurrentProcess {
    /// The running program's own executable, from /proc/self/exe.
    public static func executablePath() throws(SystemError) -> String {
        try Syscalls.realpath("/proc/self/exe")
    }

    public static var id: Int32 { getpid() }

    public static var effectiveUserID: UInt32 { geteuid() }

    /// The environment this process was started with, as it is now.
    public static var environment: [String: String] {
        var variables: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            entry += 1
        }
        return variables
    }

    /// The working directory, or nil when it was removed.
    public static var workingDirectory: String? {
        guard let directory = getcwd(nil, 0) else { return nil }
        defer { free(directory) }
        return String(cString: directory)
    }

    /// `path` made absolute against the working directory, for paths that are printed or written
    /// into files read elsewhere; unchanged when already absolute or the directory was removed.
    public static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let directory = workingDirectory else { return path }
        return directory + "/" + path
    }

    /// `$HOME`, else the home directory of the effective user in the password database.
    public static var homeDirectory: String {
        if let home = getenv("HOME").map({ String(cString: $0) }), !home.isEmpty { return home }
        return account?.home ?? "/"
    }

    /// The name and home directory of the effective user in the password database, if it is there.
    public static var account: (name: String, home: String)? {
        var entry = passwd()
        var found: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(geteuid(), &entry, &buffer, buffer.count, &found) == 0, found != nil,
            let name = entry.pw_name, let home = entry.pw_dir
        else { return nil }
        return (String(cString: name), String(cString: home))
    }

    /// The machine's host name, as a report names the VM.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether a process with this id exists (a zombie counts), as far as signal 0 can tell:
    /// a process of another user that exists answers EPERM, which counts as alive.
    public static func isAlive(processId: Int32) -> Bool {
        kill(processId, 0) == 0 || errno != ESRCH
    }

    /// Whether `descriptor` (1 for standard output) is a terminal, where colour and progress bars belong.
    public static func isTerminal(_ descriptor: Int32) -> Bool {
        isatty(descriptor) == 1
    }

    /// Blocks the calling thread; for code without an async context (a signal handler's queue,
    /// a child's teardown).
    public static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Writes `text` to standard error as it is, without buffering.
    public static func writeToStandardError(_ text: String) {
        try? Syscalls.writeAll(2, Array(text.utf8), subject: "standard error")
    }

    /// Ends the process at once with `status`.
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}

extension CurrentProcess {
    /// Raises the soft limit on open files to the hard limit, for processes that hold a socket
    /// per agent (a simulated fleet, a coordinator talking to thousands). Returns the new limit.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return UInt64(limit.rlim_cur)
    }
}
