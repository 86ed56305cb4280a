import QuiesceAPI

extension SweepReport {
    /// The counts, then a table of the failing VMs (every VM with `all`), then each failing
    /// VM's every problem: what an operator reads first is what to fix.
    public func text(all: Bool, style: TerminalStyle) -> String {
        var out = "\(summary.total) VMs: \(style.good("\(summary.compliant) compliant")), "
        out += (summary.nonCompliant > 0 ? style.bad : style.dim)("\(summary.nonCompliant) not compliant") + ", "
        out += (summary.unreachable > 0 ? style.bad : style.dim)("\(summary.unreachable) unreachable") + "\n"
        out += warnings.map { "\(style.warning("warning:")) \($0.printable)\n" }.joined()
        let shown = vms.filter { all || !$0.compliant || !$0.warnings.isEmpty }
        guard !shown.isEmpty else { return out }
        let rows =
            [["VM", "ADDRESS", "STATE", "AGENT", "NEXT SNAPSHOT", "FREEZES", "PROBLEMS"]]
            + shown.map { vm in
                [
                    vm.name, vm.address,
                    vm.reachable
                        ? (vm.compliant ? style.good("compliant") : style.bad("NOT COMPLIANT"))
                        : style.bad("UNREACHABLE"),
                    vm.agentVersion?.printable ?? "-", vm.predictedConsistency?.rawValue ?? "-",
                    vm.wouldFreeze.map { $0.isEmpty ? "nothing" : $0.joined(separator: ",").printable } ?? "-",
                    vm.problems.isEmpty ? "" : "\(vm.problems.count)",
                ]
            }
        out += "\n" + TextTable.render(rows)
        for vm in shown where !vm.problems.isEmpty || !vm.warnings.isEmpty {
            out += "\n\(vm.name) (\(vm.address)):\n" + vm.problems.map { "  - \($0.printable)\n" }.joined()
            out += vm.warnings.map { "  - \(style.warning("warning:")) \($0.printable)\n" }.joined()
        }
        return out
    }
}
