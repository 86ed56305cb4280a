import Glibc
import SystemPackage

/// Writes a file so that readers see the old contents or the new, never a mix, and a crash
/// leaves no half-written file: a temp file in the same directory, fsync, mode and owner set
/// on the descriptor, rename over the target, fsync of the directory.
public enum AtomicFile {
    public static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t, owner: uid_t? = nil
    ) throws(SystemError) {
        let file = FilePath(path)
        let directory = file.removingLastComponent().string
        let temporary =
            "\(directory)/.\(file.lastComponent?.string ?? "file").\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = try Syscalls.retryingOnInterrupt("open", temporary) {
            let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
            return (fd, fd < 0)
        }
        var renamed = false
        defer {
            Glibc.close(fd)
            if !renamed { unlink(temporary) }
        }
        try Syscalls.writeAll(fd, bytes, subject: temporary)
        _ = try Syscalls.retryingOnInterrupt("fchmod", temporary) { (0, fchmod(fd, mode) != 0) }
        if let owner {
            // The group is left as it is (-1): the modes give the group nothing anyway.
            _ = try Syscalls.retryingOnInterrupt("fchown", temporary) { (0, fchown(fd, owner, gid_t.max) != 0) }
        }
        _ = try Syscalls.retryingOnInterrupt("fsync", temporary) { (0, fsync(fd) != 0) }
        _ = try Syscalls.retryingOnInterrupt("rename", path) { (0, rename(temporary, path) != 0) }
        renamed = true
        let directoryFD = try Syscalls.openDirectory(directory)
        defer { Syscalls.close(directoryFD) }
        _ = try Syscalls.retryingOnInterrupt("fsync", directory) { (0, fsync(directoryFD) != 0) }
    }

    /// Removes a file; a file that is already gone is no error.
    public static func remove(_ path: String) {
        _ = unlink(path)
    }
}
