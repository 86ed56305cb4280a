import Glibc
import SystemPackage

/// Directories made with a mode: for pushed files, state, and the demo's temporary trees.
public enum Directory {
    /// Creates `path` with `mode`, and its missing parents too unless `parents` is false (then a
    /// missing parent is an error: nothing recreates a tree that was removed meanwhile). An
    /// existing directory is left as it is.
    public static func make(_ path: String, mode: mode_t, parents: Bool = true) throws(SystemError) {
        var prefix = ""
        let components = path.split(separator: "/")
        for (index, component) in components.enumerated() {
            prefix += "/" + component
            guard parents || index == components.count - 1 else { continue }
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SystemError(call: "mkdir", subject: prefix, errno: Errno(rawValue: errno))
            }
        }
    }

    /// A new directory `/tmp/<prefix>.XXXXXX`, mode 0700, that nobody else could have made.
    public static func makeTemporary(prefix: String) throws(SystemError) -> String {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SystemError(call: "mkdtemp", subject: "/tmp/\(prefix).XXXXXX", errno: Errno(rawValue: errno))
        }
        return String(cString: made)
    }
}
