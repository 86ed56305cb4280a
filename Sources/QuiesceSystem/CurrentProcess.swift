import Glibc

/// Facts about the running process.
public enum CurrentProcess {
    /// The running program's own executable, from /proc/self/exe.
    public static func executablePath() throws(SystemError) -> String {
        try Syscalls.realpath("/proc/self/exe")
    }
}

extension CurrentProcess {
    public static var effectiveUserID: UInt32 { geteuid() }
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
