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
