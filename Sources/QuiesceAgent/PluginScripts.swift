import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// Runs one script of every plugin at once, as the cycle does and as a restarted agent does for
/// the post-scripts a crash left owed.
struct PluginScripts {
    let plugins: [Precheck.Plugin]
    let sessionId: String
    let settings: AgentSettings
    let scripts: any ScriptRunning

    /// Each plugin's report and, when it did not succeed, the error saying why; in plugin order.
    /// `extraEnvironment` gets the plugin's index.
    func run(_ phase: ScriptPhase, extraEnvironment: @escaping @Sendable (Int) -> [String: String]) async
        -> [(ScriptReport, ReportedError?)]
    {
        let sessionId = sessionId
        let settings = settings
        let scripts = scripts
        return await Array(plugins.enumerated()).concurrentMap { index, plugin in
            await Self.runScript(
                of: plugin, phase: phase, sessionId: sessionId, settings: settings, scripts: scripts,
                extraEnvironment: extraEnvironment(index))
        }
    }

    /// What a post-script is told about why it runs (framework.md section 3).
    static func postScriptEnvironment(preResult: ScriptResult, snapshotResult: String) -> [String: String] {
        ["QUIESCE_PRE_RESULT": preResult.rawValue, "QUIESCE_SNAPSHOT_RESULT": snapshotResult]
    }

    /// How a group of scripts (one per plugin) ended, worst first.
    static func outcome(of reports: [ScriptReport]) -> CycleMachine.ScriptsOutcome {
        if reports.contains(where: { $0.result == .timedOut }) { return .timedOut }
        return reports.allSatisfy { $0.result == .succeeded } ? .succeeded : .failed
    }

    /// The first plugin's script that did not succeed, else the first plugin's.
    static func summary(of reports: [ScriptReport]) -> ScriptReport {
        reports.first { $0.result != .succeeded && $0.result != .skipped } ?? reports.first ?? .skipped(path: nil)
    }

    private static func runScript(
        of plugin: Precheck.Plugin, phase: ScriptPhase, sessionId: String, settings: AgentSettings,
        scripts: any ScriptRunning, extraEnvironment: [String: String]
    ) async -> (ScriptReport, ReportedError?) {
        let script = plugin.config.script(phase)
        let path = script.location
        // The post-script is checked again right before it runs: it may have been swapped since
        // the pre-check, while the pre-script ran.
        if phase == .post, let problem = Self.postScriptProblem(path, owner: settings.requiredOwnerUid) {
            var report = ScriptReport.skipped(path: path)
            report.result = .failed
            return (
                report, ReportedError(code: phase.insufficientPermission, phase: phase.cyclePhase, message: problem)
            )
        }
        let run = await scripts.run(
            ScriptInvocation(
                executable: FilePath(path), arguments: script.params,
                environment: ScriptEnvironment.base.merging(
                    ["QUIESCE_PHASE": phase.rawValue, "QUIESCE_SESSION_ID": sessionId].merging(extraEnvironment) { $1 }
                ) { $1 },
                budget: .seconds(plugin.budgetSeconds), retries: script.retries,
                killGrace: .seconds(settings.scriptKillGraceSeconds)))
        return run.report(path: path, phase: phase, plugin: plugin)
    }

    private static func postScriptProblem(_ path: String, owner: UInt32) -> String? {
        do {
            let violations = PermissionRule.script.violations(of: try FileFacts.read(path: path), owner: owner)
            return violations.isEmpty ? nil : "checked again before it ran: " + violations.joined(separator: "; ")
        } catch {
            return "\(path) vanished between the pre-check and the post-script (\(error.reason))"
        }
    }
}
