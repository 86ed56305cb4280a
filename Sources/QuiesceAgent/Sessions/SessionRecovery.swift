import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// Finishes the sessions a stopped agent left open, from their journal entries: the post-scripts
/// owed run exactly once, told why (`QUIESCE_PRE_RESULT`, `QUIESCE_SNAPSHOT_RESULT`), and each
/// session's report is kept as finished after a restart. The report says failed: whatever was
/// snapshotted was not seen through, so it must not be relied on.
///
/// What the session's guard left frozen is thawed before this runs (`ThawAll` at `serve` start).
public struct SessionRecovery: Sendable {
    public let settings: AgentSettings
    public let scripts: any ScriptRunning

    public init(settings: AgentSettings, scripts: any ScriptRunning) {
        self.settings = settings
        self.scripts = scripts
    }

    /// The journal the agent's sessions keep.
    public var journal: SessionJournal { SessionJournal(directory: settings.stateDirectory) }

    /// True when sessions were left open.
    public var hasWork: Bool { !journal.all().isEmpty }

    /// Finishes every session left open, oldest first, and answers their final states.
    public func finishLeftOpen() async -> [SessionState] {
        var finished: [SessionState] = []
        for entry in journal.all() { finished.append(await finish(entry)) }
        return finished
    }

    private func finish(_ entry: SessionJournal.Entry) async -> SessionState {
        var report = entry.report
        var said =
            "the agent stopped \(Self.describe(entry.step, begun: entry.begun)) of this session and finished it "
            + "after restarting"
        if entry.step == .postScript && entry.begun {
            said += "; its post-scripts were already under way, so they were not run again"
        } else if !entry.owed.isEmpty {
            // Noted before they start: a second crash must not run them twice.
            var running = entry
            running.step = .postScript
            running.begun = true
            journal.write(running)
            let results = await runPostScripts(of: entry)
            for (index, result) in results.enumerated() { report.plugins[index].postScript = result.0 }
            report.postScript = PluginScripts.summary(of: results.map(\.0))
            report.errors += results.compactMap(\.1)
            said += "; it ran the post-scripts"
        }
        report.errors.append(
            ReportedError(
                code: .agentRestarted, phase: entry.step,
                message: said + ". Whatever was snapshotted is not to be relied on: take the snapshot again"))
        report.status = .failed
        report.consistency = .none
        report.snapshot.usable = false
        report.finishedAt = Date()
        journal.remove(sessionId: entry.sessionId)
        return SessionState(
            id: entry.sessionId, leaseExpiresAt: Date(), finished: true, finishedBy: .restart, nextPhase: nil,
            frozen: false, report: report)
    }

    private func runPostScripts(of entry: SessionJournal.Entry) async -> [(ScriptReport, ReportedError?)] {
        // A step cut short ended badly as far as anyone can tell.
        let preResults = entry.preResults ?? Array(repeating: .failed, count: entry.owed.count)
        let snapshotCutShort = entry.begun && [.freeze, .snapshot].contains(entry.step)
        let snapshotResult = snapshotCutShort ? "failed" : entry.snapshotResult
        return await PluginScripts(
            plugins: entry.owed.map(\.asPlugin), sessionId: entry.sessionId, settings: settings, scripts: scripts
        ).run(.post) { index in
            PluginScripts.postScriptEnvironment(preResult: preResults[index], snapshotResult: snapshotResult)
        }
    }

    private static func describe(_ step: CyclePhase, begun: Bool) -> String {
        let name =
            switch step {
            case .precheck: "pre-check"
            case .preScript: "pre-script"
            case .freeze: "freeze"
            case .snapshot: "snapshot"
            case .thaw: "thaw"
            case .postScript: "post-script"
            }
        if step == .freeze && begun { return "while the file systems were frozen (freeze, snapshot or thaw steps)" }
        return begun ? "during the \(name) step" : "before the \(name) step"
    }
}
