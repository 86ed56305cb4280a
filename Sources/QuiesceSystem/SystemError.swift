import SystemPackage

/// A failed system call: which call, on what, and the errno it returned.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The libc call that failed, e.g. `"ioctl(FIFREEZE)"`.
    public var call: String
    /// The path or object the call was about.
    public var subject: String
    public var errno: Errno

    public init(call: String, subject: String, errno: Errno) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    /// True when the path (or a directory on it) does not exist.
    public var isNotFound: Bool { errno == .noSuchFileOrDirectory || errno == .notDirectory }

    /// The errno in words, e.g. "Device or resource busy".
    public var reason: String { errno.description }

    public var description: String { "\(call) on \(subject) failed: \(errno.description) (errno \(errno.rawValue))" }
}
