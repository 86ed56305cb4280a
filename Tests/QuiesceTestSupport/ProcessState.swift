import Foundation

/// Looks at other processes through /proc.
public enum ProcessState {
    /// True when `pid` no longer runs: gone entirely, or a zombie waiting to be reaped (a killed
    /// orphan may stay one for a moment until init reaps it).
    public static func isGone(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // The state letter follows the parenthesised command name, which may itself hold spaces.
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state == "Z" || state == "X"
    }
}

extension ProcessState {
    /// The pids of `parent`'s children whose command line contains `text`.
    public static func children(of parent: pid_t, commandContaining text: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[1]) == parent,
                let command = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { return false }
            return String(decoding: command, as: UTF8.self).contains(text)
        }
    }
}
