import Foundation
import Glibc
import QuiesceSystem

/// A directory under the system temp dir, removed again by `remove()`.
///
/// The directory is 0700 and owned by the caller, so the framework's parent-directory rule
/// holds for files placed in it when tests run as root.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "quiesce-test") throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory()).resolvingSymlinksInPath().path
        var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        // The canonical path: mountinfo and realpath show no doubled slashes or symlinks.
        path = String(cString: made)
    }

    public func url(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `contents` to `name` with `mode`, returning its path.
    @discardableResult
    public func write(_ name: String, _ contents: String, mode: mode_t = 0o600) throws -> String {
        let file = url(name)
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Close-on-exec, as the agent writes: a write descriptor that a test running beside this one
        // passed on to a long-lived child would make executing this file fail with ETXTBSY.
        try AtomicFile.write(Array(contents.utf8), to: file, mode: mode)
        try chmod(name, mode)
        return file
    }

    public func chmod(_ name: String, _ mode: mode_t) throws {
        guard Glibc.chmod(url(name), mode) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
    }

    public func chown(_ name: String, uid: uid_t) throws {
        guard Glibc.chown(url(name), uid, gid_t(bitPattern: -1)) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno)!)
        }
    }

    public func read(_ name: String) throws -> String { try String(contentsOfFile: url(name), encoding: .utf8) }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
