import QuiesceAPI

/// `quiesce-agent check`: every check of the pre-check, run without running anything, and the
/// consistency the next backup would reach if every script and the snapshot then succeed.
public enum ComplianceCheck {
    public static func run(settings: AgentSettings) -> CheckReport {
        let precheck = Precheck.run(settings: settings)
        let machine = CycleMachine(policy: precheck.policy, precheck: precheck.verdict)
        var errors = precheck.errors
        var plan = FreezeCandidates(mounts: [], excluded: [])
        do {
            plan = try settings.freezePlan()
        } catch {
            errors.append(
                ReportedError(code: .fsFreezeFailed, phase: .freeze, message: "cannot list the mounts: \(error)"))
        }
        let mounts = plan.mounts
        if precheck.policy.freezeEnabled && mounts.isEmpty {
            errors.append(ReportedError(code: .fsFreezeFailed, phase: .freeze, message: settings.noMountsMessage))
        }
        // Play the cycle forward assuming everything that has not been checked yet works.
        let verdict = machine.prospect(freezeWorks: !mounts.isEmpty)
        return CheckReport(
            predictedConsistency: verdict.consistency,
            reason: reason(precheck: precheck, settings: settings, errors: errors, verdict: verdict),
            configState: precheck.verdict == .notConfigured ? .notConfigured : .configured,
            errors: errors, warnings: precheck.warnings,
            plugins: precheck.plugins.map {
                PluginCheck(
                    name: $0.name, configPath: $0.configPath, preScript: $0.config.preScriptLocation,
                    postScript: $0.config.postScriptLocation, timeoutSeconds: $0.budgetSeconds,
                    continueBackupOnFailure: $0.config.continueBackupOnFailure,
                    fsFreezeEnabled: $0.config.fsFreezeEnabled)
            },
            files: precheck.files,
            freeze: FreezePlan(
                enabled: precheck.policy.freezeEnabled, discovered: settings.freeze.mounts == nil, mounts: mounts,
                excluded: plan.excluded),
            snapshotProvider: settings.snapshot.provider.rawValue)
    }

    private static func reason(
        precheck: Precheck, settings: AgentSettings, errors: [ReportedError], verdict: CycleMachine.Verdict
    ) -> String {
        if verdict.status == .failed {
            return "the next backup would fail: \(errors.first.map { "\($0.code): \($0.message)" } ?? "no snapshot")"
        }
        if let first = errors.first {
            return
                "the next backup would fall back to \(verdict.consistency.rawValue) because of \(first.code): "
                + "\(first.message)"
        }
        switch precheck.verdict {
        case .notConfigured:
            return "there is no plugin config at \(settings.pluginConfigPath), so no "
                + "scripts quiesce the application; install one to reach applicationConsistent"
        default:
            return "every check passes: scripts, permissions and freeze plan are in order"
        }
    }
}
