import Foundation

extension RestoreVerification {
    /// Lines for the group report: the verdict with the command, why when it did not pass, and
    /// the end of its output (its last line when it passed: what it checked).
    public func text(style: TerminalStyle) -> String {
        let verdict =
            switch result {
            case .passed: style.good("passed")
            case .failed: style.bad("FAILED")
            case .notRun: style.warning("not run")
            }
        var out = "  verification: \(verdict)"
        out += durationMs.map { String(format: " in %.1f s", $0 / 1000) } ?? ""
        out += " (\(command.joined(separator: " ").printable))\n"
        if let reason { out += "    \(reason.printable)\n" }
        let lines = outputTail.split(separator: "\n").map { $0.printable }
        for line in result == .passed ? lines.suffix(1) : lines.suffix(20) { out += "    | \(line)\n" }
        return out
    }
}
