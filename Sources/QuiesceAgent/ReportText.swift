import FoundationEssentials
import QuiesceAPI

/// The human-readable reports: a few aligned lines with the facts that matter, errors with
/// their codes, and the scripts' own words when something failed.
public enum ReportText {
    public static func render(_ report: CycleReport) -> String {
        var lines: [String] = []
        let snapshotWord =
            report.snapshot.taken ? (report.snapshot.usable ? "snapshot taken" : "snapshot NOT usable") : "no snapshot"
        lines.append(
            "Backup \(report.status.rawValue): \(report.consistency.rawValue), \(snapshotWord)  (session "
                + "\(report.sessionId))"
        )
        if report.configState == .notConfigured { lines.append("  no plugin config: ran without scripts") }
        lines.append(row("pre-script", describe(report.preScript, plugins: report.plugins.map(\.preScript))))
        lines.append(row("freeze", describe(report.freeze)))
        let id = report.snapshot.id.map { " id \($0)" } ?? ""
        let took = report.snapshot.durationMs.map { " in \(milliseconds($0))" } ?? ""
        lines.append(
            row(
                "snapshot",
                "\(report.snapshot.taken ? "taken" : "not taken") by provider \(report.snapshot.provider)\(took)\(id)"))
        lines.append(row("post-script", describe(report.postScript, plugins: report.plugins.map(\.postScript))))
        appendProblems(report.errors, report.warnings, to: &lines)
        for plugin in report.plugins {
            for phase in ScriptPhase.allCases {
                let script = plugin.script(phase)
                guard script.result == .failed || script.result == .timedOut else { continue }
                appendOutput(
                    "\(plugin.name) \(phase.label) \(script.path ?? "")", script.stdoutTail, script.stderrTail,
                    to: &lines)
            }
        }
        if let output = report.snapshot.outputTail, !output.isEmpty {
            appendOutput("snapshot command", output, "", to: &lines)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func render(_ report: CheckReport) -> String {
        var lines = ["Next backup: \(report.predictedConsistency.rawValue)", "  \(report.reason)"]
        for plugin in report.plugins {
            lines.append(
                row(
                    "plugin \(plugin.name)",
                    "\(plugin.configPath): budget \(plugin.timeoutSeconds) s, continueBackupOnFailure "
                        + "\(plugin.continueBackupOnFailure), fsFreezeEnabled \(plugin.fsFreezeEnabled)"))
        }
        for file in report.files {
            let absent = file.role == .pluginHost ? "absent (optional)" : "missing"
            let facts = file.exists ? "uid \(file.ownerUid.map(String.init) ?? "?") mode \(file.mode ?? "?")" : absent
            let verdict = file.violations.isEmpty ? (file.exists ? "ok" : "") : "BROKEN"
            lines.append(
                row(file.role.rawValue, [file.path, facts, verdict].filter { !$0.isEmpty }.joined(separator: "  ")))
        }
        let mounts = report.freeze.mounts.isEmpty ? "no mounts" : report.freeze.mounts.joined(separator: ", ")
        let source = report.freeze.discovered ? "discovered" : "from freeze.mounts"
        lines.append(row("freeze", report.freeze.enabled ? "\(mounts) (\(source))" : "disabled by fsFreezeEnabled"))
        // Block devices left out are worth a line each; pseudo and network file systems a count.
        let (devices, others) = (
            report.freeze.excluded.filter { $0.source.hasPrefix("/dev/") },
            report.freeze.excluded.filter { !$0.source.hasPrefix("/dev/") }
        )
        for mount in devices {
            lines.append(
                row("not frozen", "\(mount.mountPoint) (\(mount.fileSystemType) on \(mount.source)): \(mount.reason)"))
        }
        if !others.isEmpty {
            lines.append(row("not frozen", "\(others.count) pseudo or network file systems (--json lists them)"))
        }
        lines.append(row("snapshot", "provider \(report.snapshotProvider)"))
        appendProblems(report.errors, report.warnings, to: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    public static func render(_ report: ThawAllReport) -> String {
        let thawed = report.mounts.filter { $0.result == .thawed }.count
        let failed = report.mounts.filter { $0.result == .failed }.count
        var lines = ["Thawed \(thawed) of \(report.mounts.count) mounts\(failed > 0 ? ", \(failed) FAILED" : "")"]
        for mount in report.mounts {
            let result: String
            switch mount.result {
            case .thawed: result = "thawed (it was frozen)"
            case .notFrozen: result = "not frozen"
            case .failed: result = "FAILED: \(mount.message ?? "")"
            }
            lines.append(row(mount.mountPoint, "\(result)  [\(mount.sources.joined(separator: ", "))]"))
        }
        lines += report.errors.map { "Error: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func render(_ report: SnapshotsReport) -> String {
        var lines: [String] = []
        if !report.deleted.isEmpty {
            lines.append("Deleted \(report.deleted.count):")
            lines += report.deleted.map { "  \($0.id)" }
        }
        lines.append("\(report.snapshots.count) snapshot\(report.snapshots.count == 1 ? "" : "s"):")
        for snapshot in report.snapshots {
            lines.append("  \(snapshot.createdAt.formatted(.iso8601))  \(snapshot.origin)  \(snapshot.id)")
        }
        lines += report.errors.map { "Error: \($0)" }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func row(_ label: String, _ text: String) -> String {
        "  " + label + String(repeating: " ", count: max(1, 13 - label.count)) + text
    }

    private static func describe(_ script: ScriptReport, plugins: [ScriptReport]) -> String {
        let count =
            plugins.count > 1
            ? " (\(plugins.filter { $0.result == .succeeded }.count) of \(plugins.count) plugins succeeded)" : ""
        guard script.result != .skipped else { return "skipped\(count)" }
        let tries = script.attempts == 1 ? "1 try" : "\(script.attempts) tries"
        let exit = script.exitCode.map { ", exit \($0)" } ?? script.signal.map { ", signal \($0)" } ?? ""
        return
            "\(script.result.rawValue) after \(tries)\(exit) in \(milliseconds(script.durationMs))\(count)  "
            + "\(script.path ?? "")"
    }

    private static func describe(_ freeze: FreezeReport) -> String {
        guard freeze.enabled else { return "disabled by fsFreezeEnabled" }
        let atomic =
            freeze.atomicMounts.isEmpty
            ? "" : "; \(freeze.atomicMounts.joined(separator: ", ")) left unfrozen (atomic snapshots)"
        guard let frozenMs = freeze.frozenMs else {
            return (freeze.atomicMounts.isEmpty ? "not frozen" : "nothing frozen") + atomic
        }
        let held = freeze.heldThroughSnapshot ? "held through the snapshot" : "did NOT hold through the snapshot"
        return "\(freeze.mounts.joined(separator: ", ")) frozen for \(milliseconds(frozenMs)), \(held)\(atomic)"
            + preparation(freeze)
    }

    /// The flushes before the freeze and FIFREEZE's own share of the frozen time.
    private static func preparation(_ freeze: FreezeReport) -> String {
        var parts: [String] = []
        if let call = freeze.freezeCallMs { parts.append("FIFREEZE \(milliseconds(call))") }
        let flushes = [freeze.flushAfterPreScriptsMs, freeze.flushBeforeFreezeMs].compactMap { $0 }
        if !flushes.isEmpty { parts.append("flushed first in " + flushes.map(milliseconds).joined(separator: " + ")) }
        if freeze.expeditedGracePeriods == true { parts.append("grace periods expedited") }
        return parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"
    }

    private static func appendProblems(_ errors: [ReportedError], _ warnings: [ReportedError], to lines: inout [String])
    {
        for (title, entries) in [("Errors", errors), ("Warnings", warnings)] where !entries.isEmpty {
            lines.append("\(title):")
            for entry in entries {
                let legacy = entry.legacyCode.map { " (\($0))" } ?? ""
                lines.append("  \(entry.code)\(legacy) during \(entry.phase.rawValue): \(entry.message)")
            }
        }
    }

    /// The last lines of a failed step's output, indented, so the script's own words are there.
    private static func appendOutput(_ title: String, _ stdout: String, _ stderr: String, to lines: inout [String]) {
        for (stream, text) in [("stdout", stdout), ("stderr", stderr)] where !text.isEmpty {
            let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
            let tail = trimmed.split(separator: "\n", omittingEmptySubsequences: false).suffix(20)
            lines.append("Output of \(title), last lines of \(stream):")
            lines += tail.map { "  | \($0)" }
        }
    }

    private static func milliseconds(_ value: Double) -> String {
        value >= 1000 ? "\((value / 100).rounded() / 10) s" : "\((value * 10).rounded() / 10) ms"
    }
}
