import Foundation
import QuiesceAPI

/// One self-contained HTML page for a group snapshot: the verdict, a timeline in inline SVG
/// (a row per VM, a bar per phase call, the consistent cut marked) and the member table. No
/// script, no font or style from the network: it opens anywhere, offline.
public enum GroupTimelineHTML {
    /// A self-contained page, for `quiesce snapshot --html` and the demo.
    public static func render(_ report: GroupSnapshotReport) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Quiesce group snapshot \(HTML.escape(report.group))
        \(HTML.escape(report.sessionId))</title><style>\(HTML.style)</style></head><body><main>
        \(sections(report, linkingVMs: false))
        </main></body></html>

        """
    }

    /// The verdict, the cut, the timeline, the members, the scripts' output, the restore
    /// verification and the phases: the body of the page above and of the dashboard's run page,
    /// whose VM names link to the VMs' pages.
    static func sections(_ report: GroupSnapshotReport, linkingVMs: Bool) -> String {
        let rows = report.members.map { member in
            let problems = member.problems + member.errors.map { "\($0.code.rawValue): \($0.message)" }
            return [
                linkingVMs ? HTML.vmLink(member.name) : HTML.escape(member.name), HTML.escape(member.address),
                HTML.badge(member.status.rawValue),
                HTML.badge(member.consistency.rawValue), HTML.milliseconds(member.frozenMs),
                problems.map(HTML.escape).joined(separator: "<br>"),
            ]
        }
        let window = report.cut.coordinatorWindowMs.map { " (\(HTML.fixed($0, 1)) ms window)" } ?? ""
        let phases = report.phases.map { "\($0.phase) \(HTML.fixed($0.durationMs, 1)) ms" }
        return """
            <h1>Group <b>\(HTML.escape(report.group))</b>: \(HTML.badge(report.status.rawValue))
            \(HTML.badge(report.consistency.rawValue))</h1>
            <p>Session \(HTML.escape(report.sessionId)), policy \(HTML.escape(report.policy)),
            \(HTML.time(report.startedAt)) · freeze skew \(HTML.milliseconds(report.freezeSkewMs))</p>
            \(report.failure.map { "<p class=\"bad\">\(HTML.escape($0))</p>" } ?? "")
            <p>Consistent cut: <b>\(report.cut.shown ? "shown" : "not shown")</b>:
            \(HTML.escape(report.cut.reason))\(window)</p>
            \(timeline(GroupTimeline(report)))
            <h2>Members</h2>
            \(HTML.table(
                id: "members", header: ["VM", "Address", "Result", "Consistency", "Frozen", "Problems"], rows: rows))
            \(scriptsSection(report.members))
            \(report.verification.map(verificationSection) ?? "")
            <h2>Phases</h2>
            <p>\(phases.joined(separator: " · "))</p>
            """
    }

    /// The legend and the SVG: a row per VM, a bar per phase call, the consistent cut marked.
    static func timeline(_ report: GroupTimeline) -> String {
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
                + #"fill="dimgray">\#(HTML.fixed(value, 0)) ms</text>"#
        }
        if let from = report.cut.allFrozenConfirmedAt, let to = report.cut.firstThawSentAt, to > from {
            let colour = report.cut.shown ? "#2e7d32" : "#c62828"
            svg +=
                #"<rect x="\#(HTML.fixed(x(from), 1))" y="\#(top - 8)" "#
                + #"width="\#(HTML.fixed(max(x(to) - x(from), 1.5), 1))" "#
                + #"height="\#(height - top - 14)" fill="\#(colour)" fill-opacity="0.15" stroke="\#(colour)" "#
                + #"stroke-dasharray="4 3"><title>consistent cut: every member frozen "#
                + #"(\#(HTML.escape(report.cut.reason)))</title></rect>"#
            svg += #"<text x="\#(HTML.fixed(x(from) + 3, 1))" y="\#(top - 12)" fill="\#(colour)">cut</text>"#
        }
        for (row, member) in report.members.enumerated() {
            let y = top + Double(row) * rowHeight
            svg += #"<text x="4" y="\#(y + 16)">\#(HTML.escape(member.name))</text>"#
            for call in member.calls {
                let width = max(x(call.receivedAt) - x(call.sentAt), 1.5)
                let fill = call.succeeded ? colour(of: call.phase) : "#c62828"
                let duration = call.receivedAt.timeIntervalSince(call.sentAt) * 1000
                svg +=
                    #"<rect x="\#(HTML.fixed(x(call.sentAt), 1))" y="\#(y + 4)" width="\#(HTML.fixed(width, 1))" "#
                    + #"height="\#(rowHeight - 8)" "#
                    + #"fill="\#(fill)" rx="2"><title>\#(HTML.escape(member.name)) \#(call.phase): "#
                    + #"\#(HTML.fixed(duration, 1)) "#
                    + #"ms\#(call.succeeded ? "" : " (failed)")</title></rect>"#
            }
            if let frozenAt = member.frozenAt, let thawedAt = member.thawedAt {
                svg +=
                    #"<line x1="\#(HTML.fixed(x(frozenAt), 1))" y1="\#(y + rowHeight - 3)" "#
                    + #"x2="\#(HTML.fixed(x(thawedAt), 1))" "#
                    + #"y2="\#(y + rowHeight - 3)" stroke="rgb(21,101,192)" stroke-width="2"><title>frozen on the "#
                    + #"agent's clock</title></line>"#
            }
        }
        svg += "</svg>"
        let legend = ["preflight", "prepare", "freeze", "snapshot", "groupCommand", "thaw", "finish"].map {
            #"<span><i style="background:\#(colour(of: $0))"></i>\#($0)</span>"#
        }.joined(separator: " ")
        return """
            <p class="legend">\(legend) <span><i style="background:#1565c0;height:3px"></i>frozen (agent
            clock)</span></p>
            \(svg)
            """
    }

    /// What each member's pre- and post-script printed, folded: the first thing to read when a
    /// script failed.
    private static func scriptsSection(_ members: [GroupSnapshotReport.Member]) -> String {
        let scripts = members.flatMap { member in
            [("pre-script", member.preScript), ("post-script", member.postScript)].compactMap { phase, script in
                script.map { (member.name, phase, $0) }
            }
        }
        guard !scripts.isEmpty else { return "" }
        let folded = scripts.map { name, phase, script in
            let ending =
                script.exitCode.map { "exit \($0)" } ?? script.signal.map { "signal \($0)" } ?? script.result.rawValue
            let output =
                (script.stdoutTail.isEmpty ? "" : "stdout:\n\(script.stdoutTail)\n")
                + (script.stderrTail.isEmpty ? "" : "stderr:\n\(script.stderrTail)")
            return """
                <details\(script.result == .succeeded || script.result == .skipped ? "" : " open")><summary>\(
                    HTML.escape(name)) \(phase): \(HTML.badge(script.result.rawValue)) \(ending), \(script.attempts)
                attempt\(script.attempts == 1 ? "" : "s"), \(HTML.milliseconds(script.durationMs))</summary>
                <pre>\(HTML.escape(output.isEmpty ? "(no output)" : output))</pre></details>
                """
        }
        return "<h2>Scripts</h2>\n" + folded.joined(separator: "\n")
    }

    /// The restore verification: verdict, command, why, and the end of its output.
    private static func verificationSection(_ verification: RestoreVerification) -> String {
        let result = verification.result
        let took = verification.durationMs.map { " in \(HTML.fixed($0 / 1000, 1)) s" } ?? ""
        return """
            <h2>Restore verification</h2>
            <p>\(HTML.badge(result.rawValue))\(took):
            <code>\(HTML.escape(verification.command.joined(separator: " ")))</code></p>
            \(verification.reason.map { "<p class=\"bad\">\(HTML.escape($0))</p>" } ?? "")
            \(verification.outputTail.isEmpty ? "" : "<pre>\(HTML.escape(verification.outputTail))</pre>")
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
}
