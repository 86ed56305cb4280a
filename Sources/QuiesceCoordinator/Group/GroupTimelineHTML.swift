import Foundation
import QuiesceAPI

/// One self-contained HTML page for a group snapshot: the verdict, a timeline in inline SVG
/// (a row per VM, a bar per phase call, the consistent cut marked) and the member table. No
/// script, no font or style from the network: it opens anywhere, offline.
public enum GroupTimelineHTML {
    public static func render(_ report: GroupSnapshotReport) -> String {
        let start = report.startedAt
        let total = max(report.finishedAt.timeIntervalSince(start) * 1000, 1)
        let labelWidth = 160.0
        let chartWidth = 760.0
        let rowHeight = 26.0
        let top = 30.0
        let height = top + Double(report.members.count) * rowHeight + 30
        func x(_ date: Date) -> Double { labelWidth + date.timeIntervalSince(start) * 1000 / total * chartWidth }
        var svg =
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(labelWidth + chartWidth + 40))" "#
            + #"height="\#(Int(height))" font-family="sans-serif" font-size="12">"#
        for tick in 0...4 {
            let value = total * Double(tick) / 4
            let position = labelWidth + chartWidth * Double(tick) / 4
            svg +=
                #"<line x1="\#(position)" y1="\#(top - 6)" x2="\#(position)" y2="\#(height - 24)" stroke="gainsboro"/>"#
            svg +=
                #"<text x="\#(position)" y="\#(height - 8)" text-anchor="middle" "#
                + #"fill="dimgray">\#(String(format: "%.0f ms", value))</text>"#
        }
        if let from = report.cut.allFrozenConfirmedAt, let to = report.cut.firstThawSentAt, to > from {
            let colour = report.cut.shown ? "#2e7d32" : "#c62828"
            svg +=
                #"<rect x="\#(x(from))" y="\#(top - 8)" width="\#(max(x(to) - x(from), 1.5))" "#
                + #"height="\#(height - top - 14)" fill="\#(colour)" fill-opacity="0.15" stroke="\#(colour)" "#
                + #"stroke-dasharray="4 3"><title>consistent cut: every member frozen "#
                + #"(\#(escape(report.cut.reason)))</title></rect>"#
            svg += #"<text x="\#(x(from) + 3)" y="\#(top - 12)" fill="\#(colour)">cut</text>"#
        }
        for (row, member) in report.members.enumerated() {
            let y = top + Double(row) * rowHeight
            svg += #"<text x="4" y="\#(y + 16)">\#(escape(member.name))</text>"#
            for call in member.calls {
                let width = max(x(call.receivedAt) - x(call.sentAt), 1.5)
                let fill = call.succeeded ? colour(of: call.phase) : "#c62828"
                let duration = call.receivedAt.timeIntervalSince(call.sentAt) * 1000
                svg +=
                    #"<rect x="\#(x(call.sentAt))" y="\#(y + 4)" width="\#(width)" height="\#(rowHeight - 8)" "#
                    + #"fill="\#(fill)" rx="2"><title>\#(escape(member.name)) \#(call.phase): "#
                    + #"\#(String(format: "%.1f", duration)) "#
                    + #"ms\#(call.succeeded ? "" : " (failed)")</title></rect>"#
            }
            if let frozenAt = member.frozenAt, let thawedAt = member.thawedAt {
                svg +=
                    #"<line x1="\#(x(frozenAt))" y1="\#(y + rowHeight - 3)" x2="\#(x(thawedAt))" "#
                    + #"y2="\#(y + rowHeight - 3)" stroke="rgb(21,101,192)" stroke-width="2"><title>frozen on the "#
                    + #"agent's clock</title></line>"#
            }
        }
        svg += "</svg>"
        let legend = ["preflight", "prepare", "freeze", "snapshot", "groupCommand", "thaw", "finish"].map {
            #"<span><i style="background:\#(colour(of: $0))"></i>\#($0)</span>"#
        }.joined(separator: " ")
        let rows = report.members.map { member in
            let frozen = member.frozenMs.map { String(format: "%.1f ms", $0) } ?? "-"
            let problems = member.problems + member.errors.map { "\($0.code.rawValue): \($0.message)" }
            return "<tr><td>\(escape(member.name))</td><td>\(escape(member.address))</td><td "
                + "class=\"\(member.status.rawValue)\">\(member.status.rawValue)</td>"
                + "<td>\(member.consistency.rawValue)</td><td>\(frozen)</td>"
                + "<td>\(escape(problems.joined(separator: "<br>")))</td></tr>"
        }.joined(separator: "\n")
        let window = report.cut.coordinatorWindowMs.map { String(format: " (%.1f ms window)", $0) } ?? ""
        let phases = report.phases.map { "\($0.phase) \(String(format: "%.1f", $0.durationMs)) ms" }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Quiesce group snapshot \(escape(report.group))
            \(escape(report.sessionId))</title>
            <style>
            body{font-family:sans-serif;margin:2em;color:#222}h1{font-size:1.4em}
            .succeeded{color:#2e7d32}.failed,.leftOut{color:#c62828}
            table{border-collapse:collapse}
            td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
            .legend span{margin-right:1em}
            .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
            </style></head><body>
            <h1>Group <b>\(escape(report.group))</b>: <span
            class="\(report.status.rawValue)">\(report.status.rawValue)</span>, \(report.consistency.rawValue)</h1>
            <p>Session \(escape(report.sessionId)), policy \(report.policy),
            \(escape(report.startedAt.formatted(.iso8601))) · freeze skew
            \(report.freezeSkewMs.map { String(format: "%.3f ms", $0) } ?? "-")</p>
            \(report.failure.map { "<p class=\"failed\">\(escape($0))</p>" } ?? "")
            <p>Consistent cut: <b>\(report.cut.shown ? "shown" : "not shown")</b>:
            \(escape(report.cut.reason))\(window)</p>
            <p class="legend">\(legend) <span><i style="background:#1565c0;height:3px"></i>frozen (agent
            clock)</span></p>
            \(svg)
            <h2>Members</h2>
            <table><tr><th>VM</th><th>Address</th><th>Result</th><th>Consistency</th><th>Frozen</th>
            <th>Problems</th></tr>
            \(rows)
            </table>
            \(report.verification.map(verificationSection) ?? "")
            <h2>Phases</h2>
            <p>\(phases.joined(separator: " · "))</p>
            </body></html>

            """
    }

    /// The restore verification: verdict, command, why, and the end of its output.
    private static func verificationSection(_ verification: RestoreVerification) -> String {
        let result = verification.result
        let took = verification.durationMs.map { String(format: " in %.1f s", $0 / 1000) } ?? ""
        return """
            <h2>Restore verification</h2>
            <p><span class="\(result == .passed ? "succeeded" : "failed")">\(result.rawValue)</span>\(took):
            <code>\(escape(verification.command.joined(separator: " ")))</code></p>
            \(verification.reason.map { "<p class=\"failed\">\(escape($0))</p>" } ?? "")
            \(verification.outputTail.isEmpty ? "" : "<pre>\(escape(verification.outputTail))</pre>")
            """
    }

    private static func colour(of phase: String) -> String {
        switch phase {
        case "preflight": "#9e9e9e"
        case "prepare": "#8e24aa"
        case "freeze": "#1e88e5"
        case "snapshot", "groupCommand": "#43a047"
        case "thaw": "#fb8c00"
        default: "#6d4c41"
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
