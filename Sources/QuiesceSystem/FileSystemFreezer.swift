/// Freezes and thaws one mounted file system. Real on Linux (`IoctlFreezer`); tests of the
/// cycle's decisions use a fake.
public protocol FileSystemFreezer: Sendable {
    /// Blocks new writes to the file system mounted at `mount` and flushes it to disk.
    func freeze(mount: String) throws(SystemError)
    /// Lets writes through again.
    func thaw(mount: String) throws(SystemError)
    /// Writes back the file system's dirty data (`syncfs`) without freezing it.
    func flush(mount: String) throws(SystemError)
}

/// `FIFREEZE`/`FITHAW` on a read-only descriptor of the mount point.
///
/// The `_IOWR('X', 119, int)` and `_IOWR('X', 120, int)` macros do not import into Swift, so
/// their values are spelled out.
public struct IoctlFreezer: FileSystemFreezer {
    static let fifreeze: UInt = 0xC004_5877
    static let fithaw: UInt = 0xC004_5878

    public init() {}

    public func freeze(mount: String) throws(SystemError) {
        try request(Self.fifreeze, name: "FIFREEZE", mount: mount)
    }

    public func thaw(mount: String) throws(SystemError) {
        try request(Self.fithaw, name: "FITHAW", mount: mount)
    }

    public func flush(mount: String) throws(SystemError) {
        if let error = FileSystemFlush.flush([mount]).first { throw error }
    }

    private func request(_ request: UInt, name: String, mount: String) throws(SystemError) {
        let fd = try Syscalls.openDirectory(mount)
        defer { Syscalls.close(fd) }
        try Syscalls.ioctl(fd, request, name: name, subject: mount)
    }
}
