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
