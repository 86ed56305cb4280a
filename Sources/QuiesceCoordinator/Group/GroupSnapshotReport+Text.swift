import Foundation
import QuiesceAPI

extension GroupSnapshotReport {
    /// The verdict and the cut first, then a row per member, then every failing member's
    /// problems, error codes and script output: what an operator needs at 03:00.
    public func text(style: TerminalStyle) -> String {
        let verdict = status == .succeeded ? style.good("SUCCEEDED") : style.bad("FAILED")
        var out = "group \(group) (\(policy)): \(verdict), \(consistency.rawValue)\n"
        if let failure { out += "  \(style.bad("why:")) \(failure)\n" }
        if let skew = freezeSkewMs {
            out += String(format: "  freeze skew %.3f ms (first to last frozen, agents' clocks)\n", skew)
        }
        if let planned = plannedFreezeAt, let last = members.compactMap(\.frozenAt).max() {
            out +=
                "  freeze agreed for \(QuiesceJSON.timestamp(planned))"
                + String(
                    format: "; the last member was frozen %.3f ms after it\n", last.timeIntervalSince(planned) * 1000)
        }
        out += "  cut: " + (cut.shown ? style.good("shown") : style.warning("not shown")) + ": \(cut.reason)\n"
        if let window = cut.coordinatorWindowMs {
            out += String(format: "       every member frozen for %.1f ms by the coordinator's clock", window)
            out += cut.agentsWindowMs.map { String(format: ", %.1f ms by the agents'", $0) } ?? ""
            out += "\n"
        }
        out +=
            "  phases: " + phases.map { String(format: "%@ %.1f ms", $0.phase, $0.durationMs) }.joined(separator: ", ")
            + "\n"
        if let verification { out += verification.text(style: style) }
        let rows =
            [["VM", "ADDRESS", "RESULT", "CONSISTENCY", "FROZEN", "SNAPSHOT", "PROBLEM"]]
            + members.map { member in
                let word =
                    switch member.status {
                    case .succeeded: style.good(member.status.rawValue)
                    case .calledOff: style.warning(member.status.rawValue)
                    case .failed, .leftOut: style.bad(member.status.rawValue)
                    }
                return [
                    member.name, member.address, word, member.consistency.rawValue,
                    member.frozenMs.map { String(format: "%.1f ms", $0) } ?? "-", member.snapshotId?.printable ?? "-",
                    member.problems.first?.printable ?? "",
                ]
            }
        out += "\n" + TextTable.render(rows)
        for member in members where !member.problems.isEmpty || !member.errors.isEmpty {
            out += "\n\(member.name) (\(member.address)):\n"
            out += member.problems.map { "  - \($0.printable)\n" }.joined()
            out += member.errors.map {
                "  - \($0.code.rawValue.printable)\($0.legacyCode.map { " (\($0))" } ?? ""): \($0.message.printable)\n"
            }.joined()
            for (label, script) in [("pre-script", member.preScript), ("post-script", member.postScript)] {
                guard let script else { continue }
                out +=
                    "  \(label) \((script.path ?? "").printable): "
                    + "\(script.result.rawValue)\(script.exitCode.map { ", exit \($0)" } ?? "")\n"
                for (stream, tail) in [("stdout", script.stdoutTail), ("stderr", script.stderrTail)] where !tail.isEmpty
                {
                    out +=
                        "    \(stream):\n"
                        + tail.split(separator: "\n", omittingEmptySubsequences: false).suffix(20).map {
                            "      \($0.printable)\n"
                        }.joined()
                }
            }
        }
        return out
    }
}
