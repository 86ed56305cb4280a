import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// A backup cycle carried out one step at a time: by `BackupCycle.run()` straight through, or
/// phase by phase by a snapshot session the coordinator drives.
///
///     let runner = CycleRunner(settings: s, freezeService: f, snapshotProvider: p, sessionId: id)
///     await runner.perform(through: .prepare)   // pre-scripts done, freeze next
///     let report = await runner.runToEnd()
public actor CycleRunner {
    public let sessionId: String
    private let freezeService: any FreezeService
    private let snapshotProvider: any SnapshotProvider
    private var machine: CycleMachine
    private var state: CycleState
    private var verdict: CycleMachine.Verdict?
    /// Where the cycle's progress is kept for a restart after a crash; nil keeps none.
    private let journal: SessionJournal?

    public init(
        settings: AgentSettings, freezeService: any FreezeService, snapshotProvider: any SnapshotProvider,
        sessionId: String, scripts: any ScriptRunning = ScriptRunner(), journal: SessionJournal? = nil
    ) {
        let precheck = Precheck.run(settings: settings)
        self.sessionId = sessionId
        self.journal = journal
        self.freezeService = freezeService
        self.snapshotProvider = snapshotProvider
        machine = CycleMachine(policy: precheck.policy, precheck: precheck.verdict)
        state = CycleState(sessionId: sessionId, precheck: precheck, settings: settings, scripts: scripts)
    }

    /// The session phase the next step belongs to; nil once the cycle is finished.
    public var nextPhase: SessionPhase? { verdict == nil ? machine.next().sessionPhase : nil }

    /// Carries out every step, not yet carried out, of `phase` and of the phases before it.
    public func perform(through phase: SessionPhase) async {
        while let next = nextPhase, next <= phase { await performNext() }
    }

    /// Carries out every remaining step and returns the final report.
    public func runToEnd() async -> CycleReport {
        await perform(through: .finish)
        return report
    }

    /// Has the freeze step issue its first FIFREEZE at `instant` (the group's agreed one), not
    /// as soon as it is ready.
    public func planFreeze(at instant: Date) { state.plannedFreezeAt = instant }

    /// Takes no snapshot after all (the coordinator aborted the group): what is frozen is
    /// thawed and the post-scripts still run when the cycle goes on.
    public func abandonSnapshot(reason: String) {
        guard machine.snapshotTaken == nil else { return }
        machine.snapshotTaken = false
        machine.snapshotAbandoned = true
        state.record(ReportedError(code: .sessionAborted, phase: .snapshot, message: reason))
    }

    /// Records a snapshot taken outside the agent (one command for the whole group) instead of
    /// running the provider. Anywhere but at the snapshot step it records nothing.
    public func recordExternalSnapshot(_ outcome: SnapshotOutcome) async {
        guard verdict == nil, case .snapshot(let frozen) = machine.next() else { return }
        var working = state
        machine.snapshotTaken = await working.takeSnapshot(with: RecordedSnapshot(outcome: outcome), frozen: frozen)
        state = working
    }

    /// The report as it stands: final once the cycle finished, `inProgress` before.
    public var report: CycleReport {
        if let verdict { return state.report(verdict: verdict, provider: snapshotProvider.name) }
        var report = state.report(verdict: prospect, provider: snapshotProvider.name)
        report.status = .inProgress
        return report
    }

    /// True while a freeze is held.
    public var isFrozen: Bool { state.isFrozen }

    /// True once the final verdict is in.
    public var isFinished: Bool { verdict != nil }

    /// The best the cycle can still reach if every remaining step succeeds.
    public var prospect: CycleMachine.Verdict { machine.prospect() }

    /// One step. The state is worked on as a copy and put back after the step's awaits: callers
    /// (one session's phases, taken one at a time) never run two steps at once.
    private func performNext() async {
        let step = machine.next()
        note(step, begun: true)
        var working = state
        switch step {
        case .runPreScripts:
            machine.preScripts = await working.runPreScripts()
            if case .freeze = machine.next() {
                await working.flushBeforeFreeze(with: freezeService, leaving: snapshotProvider.atomicMounts)
            }
        case .freeze:
            machine.freezeSucceeded = await working.freeze(with: freezeService, leaving: snapshotProvider.atomicMounts)
        case .snapshot(let frozen):
            machine.snapshotTaken = await working.takeSnapshot(with: snapshotProvider, frozen: frozen)
        case .thaw:
            machine.freezeHeld = await working.thaw()
        case .runPostScripts:
            machine.postScripts = await working.runPostScripts()
        case .finish(let verdict):
            self.verdict = verdict
        }
        state = working
        if verdict == nil { note(machine.next(), begun: false) }
    }

    /// Writes down where the cycle stands: before `step` begins and again once the step before
    /// it ended; forgets it once the verdict is in. Nothing is written while frozen (the state
    /// directory may be on a frozen file system, where a write blocks until the thaw): through
    /// the frozen window the entry says `freeze` begun, and a restart treats the snapshot as failed.
    private func note(_ step: CycleMachine.Step, begun: Bool) {
        guard let journal, !state.isFrozen else { return }
        guard let phase = step.cyclePhase else { return journal.remove(sessionId: sessionId) }
        let scriptsRun = state.precheck.verdict == .ready
        journal.write(
            SessionJournal.Entry(
                sessionId: sessionId, step: phase, begun: begun,
                owed: scriptsRun ? state.precheck.plugins.map(SessionJournal.OwedPostScript.init) : [],
                preResults: machine.preScripts == nil ? nil : state.reports(.pre).map(\.result),
                snapshotResult: state.snapshotResult, report: report))
    }
}

/// Stands in for the provider when the snapshot was taken outside the agent.
private struct RecordedSnapshot: SnapshotProvider {
    let outcome: SnapshotOutcome
    var name: String { "external" }
    func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome { outcome }
}
