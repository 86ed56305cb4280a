import Glibc
import SystemPackage

/// Appends to a file created with a given mode, `O_APPEND` so concurrent writers never
/// overwrite each other, through no symlink at the final component.
public enum AppendFile {
    public static func append(_ bytes: [UInt8], to path: String, mode: mode_t) throws(SystemError) {
        let fd = try Syscalls.retryingOnInterrupt("open", path) {
            let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode)
            return (fd, fd < 0)
        }
        defer { Glibc.close(fd) }
        try Syscalls.writeAll(fd, bytes, subject: path)
    }
}
