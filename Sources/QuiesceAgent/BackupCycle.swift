import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// One local backup cycle: pre-check, pre-scripts, freeze, snapshot, thaw, post-scripts, report.
///
/// The decisions are `CycleMachine`'s; this type only carries them out. Whatever happens, a
/// freeze it took is thawed before it returns, and post-scripts run whenever pre-scripts did.
///
///     let report = await BackupCycle(settings: settings).run()
public struct BackupCycle: Sendable {
    public var settings: AgentSettings
    public var freezer: any FileSystemFreezer
    public var snapshotProvider: any SnapshotProvider

    public init(
        settings: AgentSettings, freezer: any FileSystemFreezer = IoctlFreezer(),
        snapshotProvider: (any SnapshotProvider)? = nil
    ) {
        self.settings = settings
        self.freezer = freezer
        self.snapshotProvider = snapshotProvider ?? settings.makeSnapshotProvider()
    }

    public func run(sessionId: String = UUID().uuidString.lowercased()) async -> CycleReport {
        let precheck = Precheck.run(settings: settings)
        var state = CycleState(sessionId: sessionId, precheck: precheck, settings: settings)
        var machine = CycleMachine(policy: precheck.policy, precheck: precheck.verdict)
        while true {
            switch machine.next() {
            case .runPreScripts:
                machine.preScripts = await state.runPreScripts()
            case .freeze:
                machine.freezeSucceeded = state.freeze(with: freezer)
            case .snapshot(let frozen):
                machine.snapshotTaken = await state.takeSnapshot(with: snapshotProvider, frozen: frozen)
            case .thaw:
                machine.freezeHeld = state.thaw()
            case .runPostScripts:
                machine.postScripts = await state.runPostScripts()
            case .finish(let verdict):
                return state.report(verdict: verdict, provider: snapshotProvider.name)
            }
        }
    }
}

extension AgentSettings {
    /// The snapshot provider these settings name.
    public func makeSnapshotProvider() -> any SnapshotProvider {
        switch snapshot.provider {
        case .none:
            PlatformSnapshotProvider()
        case .command:
            // It runs while frozen, so the freeze timeout bounds it too.
            CommandSnapshotProvider(
                command: snapshot.command, timeout: .seconds(min(snapshot.timeoutSeconds, freeze.timeoutSeconds)),
                killGrace: .seconds(scriptKillGraceSeconds))
        }
    }
}
