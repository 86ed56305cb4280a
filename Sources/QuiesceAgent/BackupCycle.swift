import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// One local backup cycle: pre-check, pre-scripts, freeze, snapshot, thaw, post-scripts, report.
///
/// The decisions are `CycleMachine`'s; this type only carries them out. Whatever happens, a
/// freeze it took is thawed before it returns, and post-scripts run whenever pre-scripts did.
///
///     let freezing = GuardFreezeService.forThisExecutable(settings: settings)
///     let report = await BackupCycle(settings: settings, freezeService: freezing).run()
public struct BackupCycle: Sendable {
    public var settings: AgentSettings
    public var freezeService: any FreezeService
    public var snapshotProvider: any SnapshotProvider

    public init(
        settings: AgentSettings, freezeService: any FreezeService, snapshotProvider: (any SnapshotProvider)? = nil
    ) {
        self.settings = settings
        self.freezeService = freezeService
        self.snapshotProvider = snapshotProvider ?? settings.makeSnapshotProvider()
    }

    public func run(sessionId: String = UUID().uuidString.lowercased()) async -> CycleReport {
        let runner = CycleRunner(
            settings: settings, freezeService: freezeService, snapshotProvider: snapshotProvider, sessionId: sessionId)
        return await runner.runToEnd()
    }
}

extension AgentSettings {
    /// The snapshot provider these settings name; a snapshot command runs on `scripts`.
    public func makeSnapshotProvider(scripts: ScriptRunner = ScriptRunner()) -> any SnapshotProvider {
        switch snapshot.provider {
        case .none:
            PlatformSnapshotProvider()
        case .command:
            commandProvider(scripts: scripts)
        case .btrfs:
            BtrfsSnapshotProvider(
                subvolumes: snapshot.btrfsSubvolumes, directory: snapshot.btrfsDirectory,
                mounts: try? MountTable.current(),
                timeout: .seconds(snapshot.timeoutSeconds))
        case .lvm:
            LVMSnapshotProvider(
                volumes: snapshot.lvmVolumes, size: snapshot.lvmSize, timeout: .seconds(snapshot.timeoutSeconds))
        }
    }

    private func commandProvider(scripts: ScriptRunner) -> any SnapshotProvider {
        // Not bounded by the freeze timeout: when the guard thaws first, a snapshot that still
        // finishes is reported as crash consistent (FsFreezeTimeout) rather than lost.
        let taking = CommandSnapshotProvider(
            command: snapshot.command, timeout: .seconds(snapshot.timeoutSeconds),
            killGrace: .seconds(scriptKillGraceSeconds), scripts: scripts)
        guard !snapshot.listCommand.isEmpty, !snapshot.deleteCommand.isEmpty else { return taking }
        return ManagedCommandSnapshotProvider(
            taking: taking, listCommand: snapshot.listCommand, deleteCommand: snapshot.deleteCommand)
    }
}
