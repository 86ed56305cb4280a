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
    private var warnings: [ReportedError]
    /// Each plugin's script report, in plugin order.
    private var scriptReports: [ScriptPhase: [ScriptReport]]
    private var held: (any HeldFreeze)?
    /// Mounts the provider snapshots atomically, left out of the freeze.
    private var atomicMounts: [String] = []
    private var frozenMounts: [String] = []
    private var frozenAt: Date?
    private var freezingSince: Date?
    private var flushAfterPreScripts: Duration?
    /// The agreed instant of the first FIFREEZE in a group snapshot; nil freezes when ready.
    var plannedFreezeAt: Date?
    private var preparation: FreezePreparation?
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
        warnings = precheck.warnings
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
        let snapshotResult = snapshotResult
        let preResults = reports(.pre).map(\.result)
        return await runScripts(.post) { index in
            PluginScripts.postScriptEnvironment(preResult: preResults[index], snapshotResult: snapshotResult)
        }
    }

    func reports(_ phase: ScriptPhase) -> [ScriptReport] { scriptReports[phase] ?? [] }

    /// `QUIESCE_SNAPSHOT_RESULT` as things stand.
    var snapshotResult: String { snapshot.map { $0.taken ? "taken" : "failed" } ?? "skipped" }

    /// Writes back the mounts' dirty data after the pre-scripts, while the application is quiet
    /// but not yet blocked, so the freeze has little left to flush (`freeze.flushBeforeFreeze`).
    mutating func flushBeforeFreeze(with service: any FreezeService, leaving atomic: [String]) async {
        guard settings.freeze.flushBeforeFreeze,
            let mounts = try? settings.freezePlan().mounts.filter({ !atomic.contains($0) }), !mounts.isEmpty
        else { return }
        let start = clock.now
        let failures = await service.flush(mounts)
        flushAfterPreScripts = clock.now - start
        warnings += failures.map { ReportedError(code: .flushFailed, phase: .freeze, message: Self.flushMessage($0)) }
    }

    private static func flushMessage(_ failure: String) -> String {
        "\(failure); the freeze flushed that file system itself, with writers waiting longer"
    }

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
        switch await service.freeze(mounts, timeout: .seconds(settings.freeze.timeoutSeconds), at: plannedFreezeAt) {
        case .success(let freeze):
            held = freeze
            frozenMounts = mounts
            freezingSince = freeze.freezingSince
            frozenAt = freeze.frozenAt
            preparation = freeze.preparation
            warnings += freeze.preparation.flushErrors.map {
                ReportedError(code: .flushFailed, phase: .freeze, message: Self.flushMessage($0))
            }
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
            startedAt: startedAt, finishedAt: Date(), errors: errors, warnings: warnings,
            preScript: PluginScripts.summary(of: reports(.pre)), postScript: PluginScripts.summary(of: reports(.post)),
            plugins: plugins,
            freeze: freezeReport,
            snapshot: SnapshotReport(
                taken: snapshot?.taken ?? false, provider: provider, id: snapshot?.id,
                durationMs: snapshotDuration.map { $0 / .milliseconds(1) }, usable: verdict.snapshotUsable,
                outputTail: snapshot?.taken == false ? snapshot?.outputTail : nil))
    }

    private var freezeReport: FreezeReport {
        var report = FreezeReport(
            enabled: precheck.policy.freezeEnabled, mounts: frozenMounts, atomicMounts: atomicMounts,
            heldThroughSnapshot: heldThroughSnapshot,
            frozenMs: freezingSince.flatMap { since in thawedAt.map { $0.timeIntervalSince(since) * 1000 } },
            freezeCallMs: freezingSince.flatMap { since in frozenAt.map { $0.timeIntervalSince(since) * 1000 } },
            frozenAt: frozenAt, thawedAt: thawedAt)
        report.flushAfterPreScriptsMs = flushAfterPreScripts.map { $0 / .milliseconds(1) }
        report.flushBeforeFreezeMs = preparation?.flushMs
        report.expeditedGracePeriods = preparation?.expeditedGracePeriods
        report.plannedAt = plannedFreezeAt
        return report
    }

    /// Runs one script of every plugin at once and records the results in plugin order.
    private mutating func runScripts(
        _ phase: ScriptPhase, extraEnvironment: @escaping @Sendable (Int) -> [String: String]
    ) async -> CycleMachine.ScriptsOutcome {
        let results = await PluginScripts(
            plugins: precheck.plugins, sessionId: sessionId, settings: settings, scripts: scripts
        ).run(phase, extraEnvironment: extraEnvironment)
        scriptReports[phase] = results.map(\.0)
        errors += results.compactMap(\.1)
        return PluginScripts.outcome(of: reports(phase))
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
