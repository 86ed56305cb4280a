import FoundationEssentials
import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// What one cycle has done so far, and the effects that move it on. Each effect returns the
/// fact `CycleMachine` needs and records the details for the report.
struct CycleState {
    let sessionId: String
    let precheck: Precheck
    let settings: AgentSettings
    let scripts: any ScriptRunning
    let startedAt = Date()
    private let clock = ContinuousClock()
    private(set) var errors: [ReportedError]
    /// Each plugin's script report, in plugin order.
    private var scriptReports: [ScriptPhase: [ScriptReport]]
    private var held: (any HeldFreeze)?
    /// Mounts the provider snapshots atomically, left out of the freeze.
    private var atomicMounts: [String] = []
    private var frozenMounts: [String] = []
    private var frozenAt: Date?
    private var freezingSince: Date?
    private var thawedAt: Date?
    private var heldThroughSnapshot = false
    private var snapshot: SnapshotOutcome?
    private var snapshotDuration: Duration?

    init(sessionId: String, precheck: Precheck, settings: AgentSettings, scripts: any ScriptRunning) {
        self.sessionId = sessionId
        self.precheck = precheck
        self.settings = settings
        self.scripts = scripts
        errors = precheck.errors
        scriptReports = Dictionary(
            uniqueKeysWithValues: ScriptPhase.allCases.map { phase in
                (phase, precheck.plugins.map { ScriptReport.skipped(path: $0.config.script(phase).location) })
            })
    }

    /// True while a freeze is held.
    var isFrozen: Bool { held != nil }

    /// Adds an error found outside the steps (a session aborted by its coordinator).
    mutating func record(_ error: ReportedError) { errors.append(error) }

    mutating func runPreScripts() async -> CycleMachine.ScriptsOutcome {
        await runScripts(.pre) { _ in [:] }
    }

    mutating func runPostScripts() async -> CycleMachine.ScriptsOutcome {
        let snapshotResult = snapshot.map { $0.taken ? "taken" : "failed" } ?? "skipped"
        let preResults = reports(.pre).map(\.result.rawValue)
        return await runScripts(.post) { index in
            ["QUIESCE_PRE_RESULT": preResults[index], "QUIESCE_SNAPSHOT_RESULT": snapshotResult]
        }
    }

    private func reports(_ phase: ScriptPhase) -> [ScriptReport] { scriptReports[phase] ?? [] }

    /// Freezes the configured mounts, all or none. False when the freeze could not be taken.
    /// Mounts in `atomic` are left unfrozen: the provider's own snapshots of them are atomic,
    /// and would block on a frozen file system.
    mutating func freeze(with service: any FreezeService, leaving atomic: [String]) async -> Bool {
        var mounts: [String]
        do {
            mounts = try settings.freezePlan().mounts
        } catch {
            errors.append(
                ReportedError(code: .fsFreezeFailed, phase: .freeze, message: "cannot list the mounts: \(error)"))
            return false
        }
        guard !mounts.isEmpty else {
            errors.append(ReportedError(code: .fsFreezeFailed, phase: .freeze, message: settings.noMountsMessage))
            return false
        }
        atomicMounts = mounts.filter { atomic.contains($0) }
        mounts.removeAll { atomic.contains($0) }
        if mounts.isEmpty {
            heldThroughSnapshot = true
            return true
        }
        switch await service.freeze(mounts, timeout: .seconds(settings.freeze.timeoutSeconds)) {
        case .success(let freeze):
            held = freeze
            frozenMounts = mounts
            freezingSince = freeze.freezingSince
            frozenAt = freeze.frozenAt
            return true
        case .failure(let failure):
            errors.append(ReportedError(code: .fsFreezeFailed, phase: .freeze, message: Self.describe(failure)))
            return false
        }
    }

    mutating func takeSnapshot(with provider: any SnapshotProvider, frozen isFrozen: Bool) async -> Bool {
        let start = clock.now
        let outcome = await provider.takeSnapshot(
            SnapshotRequest(sessionId: sessionId, frozenMounts: isFrozen ? frozenMounts : []))
        snapshotDuration = clock.now - start
        snapshot = outcome
        if let failure = outcome.failure {
            let output = outcome.outputTail.map { $0.isEmpty ? "" : "; its output ends: \($0.suffix(500))" } ?? ""
            errors.append(ReportedError(code: .snapshotFailed, phase: .snapshot, message: failure + output))
        }
        return outcome.taken
    }

    /// Thaws everything frozen; true when every freeze still held until now.
    mutating func thaw() async -> Bool {
        guard let freeze = held else { return !atomicMounts.isEmpty }
        let thaw = await freeze.thaw()
        held = nil
        thawedAt = thaw.thawedAt
        for error in thaw.errors {
            errors.append(
                ReportedError(
                    code: .fsFreezeFailed, phase: .thaw,
                    message: "\(error); a file system may still be frozen: run `quiesce-agent thaw-all` now"))
        }
        if !thaw.held {
            let what = thaw.endedEarly ?? "\(thaw.alreadyThawed.joined(separator: ", ")) thawed behind the agent's back"
            errors.append(
                ReportedError(
                    code: .fsFreezeTimeout, phase: .thaw,
                    message: "the freeze ended before the snapshot finished (\(what)), so the snapshot is only crash "
                        + "consistent; raise freeze.timeoutSeconds or make the snapshot step faster"))
        }
        heldThroughSnapshot = thaw.held
        return heldThroughSnapshot
    }

    /// The report of the finished cycle.
    func report(verdict: CycleMachine.Verdict, provider: String) -> CycleReport {
        let plugins = precheck.plugins.indices.map { index in
            PluginReport(
                name: precheck.plugins[index].name, configPath: precheck.plugins[index].configPath,
                preScript: reports(.pre)[index], postScript: reports(.post)[index])
        }
        return CycleReport(
            sessionId: sessionId, status: verdict.status, consistency: verdict.consistency,
            configState: precheck.verdict == .notConfigured ? .notConfigured : .configured,
            startedAt: startedAt, finishedAt: Date(), errors: errors, warnings: precheck.warnings,
            preScript: Self.summary(of: reports(.pre)), postScript: Self.summary(of: reports(.post)), plugins: plugins,
            freeze: FreezeReport(
                enabled: precheck.policy.freezeEnabled, mounts: frozenMounts, atomicMounts: atomicMounts,
                heldThroughSnapshot: heldThroughSnapshot,
                frozenMs: freezingSince.flatMap { since in thawedAt.map { $0.timeIntervalSince(since) * 1000 } },
                freezeCallMs: freezingSince.flatMap { since in frozenAt.map { $0.timeIntervalSince(since) * 1000 } },
                frozenAt: frozenAt, thawedAt: thawedAt),
            snapshot: SnapshotReport(
                taken: snapshot?.taken ?? false, provider: provider, id: snapshot?.id,
                durationMs: snapshotDuration.map { $0 / .milliseconds(1) }, usable: verdict.snapshotUsable,
                outputTail: snapshot?.taken == false ? snapshot?.outputTail : nil))
    }

    /// Runs one script of every plugin at once and records the results in plugin order.
    private mutating func runScripts(
        _ phase: ScriptPhase, extraEnvironment: @escaping @Sendable (Int) -> [String: String]
    ) async -> CycleMachine.ScriptsOutcome {
        let plugins = precheck.plugins
        let sessionId = sessionId
        let settings = settings
        let scripts = scripts
        let results = await Array(plugins.enumerated()).concurrentMap { index, plugin in
            await Self.runScript(
                of: plugin, phase: phase, sessionId: sessionId, settings: settings, scripts: scripts,
                extraEnvironment: extraEnvironment(index))
        }
        scriptReports[phase] = results.map(\.0)
        errors += results.compactMap(\.1)
        return Self.outcome(of: reports(phase))
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

    private static func outcome(of reports: [ScriptReport]) -> CycleMachine.ScriptsOutcome {
        if reports.contains(where: { $0.result == .timedOut }) { return .timedOut }
        return reports.allSatisfy { $0.result == .succeeded } ? .succeeded : .failed
    }

    /// The first plugin's script that did not succeed, else the first plugin's.
    private static func summary(of reports: [ScriptReport]) -> ScriptReport {
        reports.first { $0.result != .succeeded && $0.result != .skipped } ?? reports.first ?? .skipped(path: nil)
    }

    private static func describe(_ failure: FreezeFailure) -> String {
        var message =
            failure.mount.map { "freezing \($0) failed: \(failure.reason)" } ?? "freezing failed: \(failure.reason)"
        if failure.alreadyFrozen, let mount = failure.mount {
            message +=
                "; it was already frozen by someone else and is left as it was (thaw it with "
                + "`fsfreeze -u \(mount)` once its owner is done)"
        }
        if !failure.rolledBack.isEmpty {
            message += "; thawed again at once: \(failure.rolledBack.joined(separator: ", "))"
        }
        for error in failure.rollbackErrors {
            message += "; could not thaw: \(error): run `quiesce-agent thaw-all` now"
        }
        return message
    }
}
