import Glibc
import SystemPackage

/// The libc calls this module shares between files, each retried on EINTR and turned into a
/// `SystemError`; `retryingOnInterrupt` wraps the rest where they fail with errno. Two kinds of
/// call stay raw beside their one caller: process plumbing whose errors are results, not errno
/// (posix_spawn in `ChildProcess`, waitpid), and the freeze guard's poll loop, which runs in the
/// guard process, handles EINTR itself and must not allocate an error while mounts are frozen.
enum Syscalls {
    static func retryingOnInterrupt<T>(_ call: String, _ subject: String, _ body: () -> (T, Bool)) throws(SystemError)
        -> T
    {
        while true {
            let (value, failed) = body()
            if !failed { return value }
            let code = Errno(rawValue: Glibc.errno)
            if code == .interrupted { continue }
            throw SystemError(call: call, subject: subject, errno: code)
        }
    }

    /// The inode of `path` itself, not of what a symlink there points to.
    static func linkStatus(_ path: String) throws(SystemError) -> Glibc.stat {
        var info = Glibc.stat()
        _ = try retryingOnInterrupt("lstat", path) { (0, Glibc.lstat(path, &info) != 0) }
        return info
    }

    /// Where the symlink at `path` points, as written in it.
    static func readLink(_ path: String) throws(SystemError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = try retryingOnInterrupt("readlink", path) {
            let count = buffer.withUnsafeMutableBufferPointer { Glibc.readlink(path, $0.baseAddress!, $0.count) }
            return (count, count < 0)
        }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func realpath(_ path: String) throws(SystemError) -> String {
        guard let resolved = Glibc.realpath(path, nil) else {
            throw SystemError(call: "realpath", subject: path, errno: Errno(rawValue: Glibc.errno))
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Opens a directory read-only, as FIFREEZE wants; close-on-exec so scripts never inherit it.
    static func openDirectory(_ path: String) throws(SystemError) -> CInt {
        try retryingOnInterrupt("open", path) {
            let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            return (fd, fd < 0)
        }
    }

    /// Writes all of `bytes`, however many calls it takes.
    static func writeAll(_ fd: CInt, _ bytes: [UInt8], subject: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            offset += try retryingOnInterrupt("write", subject) {
                let count = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
                return (count, count < 0)
            }
        }
    }

    static func close(_ fd: CInt) {
        _ = Glibc.close(fd)
    }

    static func ioctl(_ fd: CInt, _ request: UInt, name: String, subject: String) throws(SystemError) {
        _ = try retryingOnInterrupt("ioctl(\(name))", subject) { (0, Glibc.ioctl(fd, request, 0) != 0) }
    }

    /// Sends `signal` to every process in group `group`; false when the group no longer exists.
    @discardableResult
    static func signalGroup(_ group: pid_t, _ signal: CInt) -> Bool {
        Glibc.kill(-group, signal) == 0
    }

    /// Whether child `pid` has ended, without reaping it (its owner does): a zombie, or already
    /// reaped.
    static func hasEnded(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return errno == ECHILD }
        return info._sifields._sigchld.si_pid == pid
    }

    /// A close-on-exec pipe, made so in one call: a child another thread spawns meanwhile must not
    /// inherit it. `pipe2` is not exported to Swift; it is looked up at run time (glibc 2.9).
    static func closeOnExecPipe(subject: String) throws(SystemError) -> (read: CInt, write: CInt) {
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<CInt>, CInt) -> CInt
        guard let symbol = dlsym(nil, "pipe2") else {
            throw SystemError(call: "dlsym(pipe2)", subject: subject, errno: .noFunction)
        }
        var ends: [CInt] = [-1, -1]
        guard unsafeBitCast(symbol, to: Pipe2.self)(&ends, O_CLOEXEC) == 0 else {
            throw SystemError(call: "pipe2", subject: subject, errno: Errno(rawValue: errno))
        }
        return (ends[0], ends[1])
    }

    /// A connected pair of close-on-exec stream sockets: the end a child gets (as its stdin) and
    /// ours. A socket rather than a pipe, so that writing to a child that already exited is an
    /// EPIPE error (`send` with `MSG_NOSIGNAL`), not a SIGPIPE that would kill us.
    static func socketPair(subject: String) throws(SystemError) -> (theirs: CInt, ours: CInt) {
        var ends: [CInt] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &ends) == 0 else {
            throw SystemError(call: "socketpair", subject: subject, errno: Errno(rawValue: errno))
        }
        return (ends[0], ends[1])
    }
}
