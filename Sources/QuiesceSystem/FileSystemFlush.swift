import Glibc
import SystemPackage

/// Writes back a file system's dirty data with `syncfs`, so that a FIFREEZE right after it has
/// almost nothing left to flush while writers wait. Best effort: a mount that cannot be flushed
/// is reported and the freeze flushes it as it always would.
public enum FileSystemFlush {
    /// Flushes each mount in order; the errors, one per mount that failed.
    public static func flush(_ mounts: [String]) -> [SystemError] {
        var errors: [SystemError] = []
        for mount in mounts {
            do {
                let fd = try Syscalls.openDirectory(mount)
                defer { Syscalls.close(fd) }
                try flush(descriptor: fd, mount: mount)
            } catch {
                errors.append(error)
            }
        }
        return errors
    }

    /// `syncfs` on an open descriptor of the mount.
    public static func flush(descriptor fd: CInt, mount: String) throws(SystemError) {
        _ = try Syscalls.retryingOnInterrupt("syncfs", mount) { (0, syncfs(fd) != 0) }
    }

    /// glibc declares `syncfs` only under `_GNU_SOURCE`, which the Glibc module is not built
    /// with; the symbol itself is always there (glibc 2.14 and later).
    private static let syncfs: @convention(c) (CInt) -> CInt = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else {
            fatalError("this C library has no syncfs (glibc 2.14 or later is needed)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (CInt) -> CInt).self)
    }()

    /// `flush` on a thread of its own: a flush can take seconds and must not hold one of the
    /// cooperative pool's threads.
    public static func flushOffThePool(_ mounts: [String]) async -> [SystemError] {
        await OwnThread.run { flush(mounts) }
    }
}
