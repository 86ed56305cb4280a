import Foundation
import QuiesceSystem

/// Runs the system tools the demo needs (mkfs, mount, losetup, e2fsck) and says which one
/// failed and what it printed.
public enum DemoShell {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    @discardableResult
    public static func run(_ arguments: [String]) throws(Failure) -> String {
        let (termination, text): (ChildProcess.Termination, String)
        do {
            (termination, text) = try ChildProcess.run(arguments)
        } catch {
            throw Failure(description: "cannot run \(arguments[0]): \(error.reason)")
        }
        guard termination == .exited(0) else {
            throw Failure(
                description:
                    "\(arguments.joined(separator: " ")) failed (\(termination)): "
                    + "\(text.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return text
    }

    /// Writes `text` to a new or replaced file with `mode`; never creates directories.
    public static func write(_ path: String, _ text: String, mode: Int) throws(Failure) {
        guard
            FileManager.default.createFile(
                atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        else {
            throw Failure(description: "cannot write \(path)")
        }
    }

    /// Makes one directory (an existing one is fine) but never its parents: once the demo's
    /// directory is removed, nothing recreates it.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(Failure) {
        do {
            try Directory.make(path, mode: mode, parents: false)
        } catch {
            throw Failure(description: "cannot create \(path): \(error.reason)")
        }
    }
}
