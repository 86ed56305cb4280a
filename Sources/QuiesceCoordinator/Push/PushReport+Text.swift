import QuiesceAPI

extension PushReport {
    /// The counts, the canary's verdict, then one row per VM, failing ones first.
    public func text(style: TerminalStyle) -> String {
        var out = dryRun ? "dry run: nothing was sent. " : ""
        out += "\(summary.total) VMs: \(summary.pushed) pushed, \(summary.unchanged) unchanged"
        for (count, word) in [
            (summary.failed, "failed"), (summary.unreachable, "unreachable"),
            (summary.skipped, "skipped (snapshot under way)"),
            (summary.notAttempted, "not attempted"),
        ] where count > 0 {
            out += ", " + style.bad("\(count) \(word)")
        }
        out += "\n"
        for role in ["pluginConfig", "preScript", "postScript"] {
            if let hash = hashes[role] { out += "  \(role) sha256 \(hash)\n" }
        }
        if let canary {
            out +=
                canary.passed
                ? style.good("canary passed") + " (\(canary.vms.joined(separator: ", ")))\n"
                : style.bad("canary FAILED") + ": \((canary.reason ?? "").printable)\n"
        }
        let rows =
            [["VM", "ADDRESS", "RESULT", "DETAIL"]]
            + vms.map { vm in
                let word = vm.status.rawValue + (vm.canary ? " (canary)" : "")
                let written = vm.written.map { "\($0.path)\($0.changed ? "" : " (same)")" }.joined(separator: ", ")
                let detail = (vm.problem ?? written).printable
                return [vm.name, vm.address, vm.status.succeeded ? style.good(word) : style.bad(word), detail]
            }
        return out + "\n" + TextTable.render(rows)
    }
}
