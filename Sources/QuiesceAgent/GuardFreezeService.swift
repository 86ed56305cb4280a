import FoundationEssentials
import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// Holds every freeze in a guard process (`quiesce-agent freeze-guard`), which thaws at its
/// deadline, when the agent dies, and on signals, whatever the agent is doing.
public struct GuardFreezeService: FreezeService {
    /// The agent's own executable, which runs the guard in its hidden mode.
    public let executable: String
    /// Where each freeze's mounts are noted for `thaw-all` while it is held.
    public let records: GuardRecords
    /// How long to wait for the guard to answer beyond the freeze's own timeout.
    public var answerMargin: Duration = .seconds(10)
    /// `freeze.flushBeforeFreeze` and `freeze.expediteGracePeriods`, passed to the guard.
    public var flush: Bool
    public var expediteGracePeriods: Bool

    public init(executable: String, records: GuardRecords, flush: Bool = true, expediteGracePeriods: Bool = true) {
        self.executable = executable
        self.records = records
        self.flush = flush
        self.expediteGracePeriods = expediteGracePeriods
    }

    /// The service for the running agent binary and these settings.
    public static func forThisExecutable(settings: AgentSettings) -> GuardFreezeService {
        GuardFreezeService(
            executable: (try? CurrentProcess.executablePath()) ?? CommandLine.arguments[0],
            records: GuardRecords(directory: settings.stateDirectory), flush: settings.freeze.flushBeforeFreeze,
            expediteGracePeriods: settings.freeze.expediteGracePeriods)
    }

    public func freeze(_ mounts: [String], timeout: Duration, at instant: Date?) async
        -> Result<any HeldFreeze, FreezeFailure>
    {
        // Noted before anything is frozen: the state directory is never written while frozen.
        let record = records.note(mounts)
        let forget = { record.map(AtomicFile.remove) }
        let guardProcess: GuardProcess
        do {
            guardProcess = try GuardProcess.start(
                executable: executable, arguments: guardArguments(mounts, timeout: timeout, at: instant))
        } catch {
            forget()
            return .failure(
                FreezeFailure(
                    mount: nil, reason: "cannot start the freeze guard: \(error)", alreadyFrozen: false, rolledBack: [],
                    rollbackErrors: []))
        }
        let waitFirst = instant.map { Duration.seconds(max(0, $0.timeIntervalSinceNow)) } ?? .zero
        let event = await guardProcess.nextEvent(within: waitFirst + timeout + answerMargin)
        switch event {
        case .some(let event) where event.event == .frozen:
            let frozenAt = Date(timeIntervalSince1970: event.at / 1000)
            return .success(
                Held(
                    process: guardProcess, record: record, mounts: mounts, timeout: timeout, margin: answerMargin,
                    freezingSince: event.since.map { Date(timeIntervalSince1970: $0 / 1000) } ?? frozenAt,
                    frozenAt: frozenAt,
                    preparation: FreezePreparation(
                        flushMs: event.flushMs, flushErrors: (event.flushFailures ?? []).map(Self.describe),
                        expeditedGracePeriods: event.expedited ?? false)))
        case .some(let event) where event.event == .freezeFailed:
            guardProcess.finish()
            if event.thawFailures == nil { forget() }
            let failure = event.failure
            let errno = failure.map { Errno(rawValue: $0.errno) }
            return .failure(
                FreezeFailure(
                    mount: failure?.mount,
                    reason: "\(failure?.call ?? "freeze"): \(errno?.description ?? "unknown error")",
                    alreadyFrozen: failure?.call == "ioctl(FIFREEZE)" && errno == .resourceBusy,
                    rolledBack: event.mounts,
                    rollbackErrors: (event.thawFailures ?? []).map(Self.describe)))
        default:
            // The guard died or thawed before it said it froze: make sure nothing stays frozen.
            guardProcess.finish()
            let errors = Self.thawDirectly(mounts)
            if errors.isEmpty { forget() }
            return .failure(
                FreezeFailure(
                    mount: nil,
                    reason: "the freeze guard (pid \(guardProcess.pid)) stopped answering before the freeze was taken",
                    alreadyFrozen: false, rolledBack: mounts, rollbackErrors: errors))
        }
    }

    public func flush(_ mounts: [String]) async -> [String] {
        await FileSystemFlush.flushOffThePool(mounts).map(\.description)
    }

    /// `quiesce-agent freeze-guard`'s command line for one freeze.
    private func guardArguments(_ mounts: [String], timeout: Duration, at instant: Date?) -> [String] {
        var arguments = ["freeze-guard", "--timeout-ms", String(Int(timeout / .milliseconds(1)))]
        if flush { arguments.append("--flush") }
        if expediteGracePeriods { arguments.append("--expedite-grace-periods") }
        if let instant {
            arguments += ["--at-epoch-us", String(Int64((instant.timeIntervalSince1970 * 1_000_000).rounded()))]
        }
        return arguments + ["--"] + mounts
    }

    static func describe(_ failure: GuardEvent.CallFailure) -> String {
        "\(failure.call) on \(failure.mount): \(Errno(rawValue: failure.errno).description)"
    }

    /// FITHAW from the agent itself, for when the guard is gone; "not frozen" is not an error.
    static func thawDirectly(_ mounts: [String]) -> [String] {
        var errors: [String] = []
        for mount in mounts.reversed() {
            do {
                try IoctlFreezer().thaw(mount: mount)
            } catch  where error.errno == .invalidArgument {
            } catch {
                errors.append(error.description)
            }
        }
        return errors
    }

    /// A freeze the guard holds, watched from the moment it is taken: the guard's one remaining
    /// report (thawed on request, at its deadline or on a signal) is read by a single watcher,
    /// and if the guard dies instead, the watcher thaws the mounts at once, not at the next
    /// request, which with the coordinator gone would come only at lease expiry.
    private final class Held: HeldFreeze, Sendable {
        let process: GuardProcess
        /// Kept when a thaw failed, so `thaw-all` still finds the mount.
        let record: String?
        let mounts: [String]
        let timeout: Duration
        let freezingSince: Date
        let frozenAt: Date
        let preparation: FreezePreparation
        private let lastReport: Task<GuardEvent?, Never>

        init(
            process: GuardProcess, record: String?, mounts: [String], timeout: Duration, margin: Duration,
            freezingSince: Date, frozenAt: Date, preparation: FreezePreparation
        ) {
            self.preparation = preparation
            self.process = process
            self.record = record
            self.mounts = mounts
            self.timeout = timeout
            self.freezingSince = freezingSince
            self.frozenAt = frozenAt
            lastReport = Task.detached {
                // The guard answers by its own deadline; past that and a margin it is hung or gone.
                let event = await process.nextEvent(within: timeout + margin)
                if event == nil { _ = GuardFreezeService.thawDirectly(mounts) }
                return event
            }
        }

        func thaw() async -> ThawOutcome {
            process.requestThaw()
            // A guard that thawed at its deadline has already written its report.
            let event = await lastReport.value
            process.finish()
            guard let event, event.event == .thawed else {
                let errors = GuardFreezeService.thawDirectly(mounts)
                if errors.isEmpty, let record { AtomicFile.remove(record) }
                return ThawOutcome(
                    held: false,
                    endedEarly: "the freeze guard (pid \(process.pid)) died; the agent thawed the mounts itself",
                    alreadyThawed: [], errors: errors, thawedAt: Date())
            }
            var endedEarly: String?
            switch event.reason {
            case .deadline: endedEarly = "the guard's \(timeout) deadline passed and it thawed by itself"
            case .signal: endedEarly = "the guard got signal \(event.signal ?? 0) and thawed"
            case .parentGone: endedEarly = "the guard lost its pipe to the agent and thawed"
            case .requested, nil: endedEarly = nil
            }
            var errors = (event.thawFailures ?? []).map(GuardFreezeService.describe)
            if let pending = event.pendingFreeze {
                errors.append(
                    "FIFREEZE on \(pending) was still blocked in the kernel; the guard (pid \(process.pid)) thaws it "
                        + "when the call returns")
            }
            if errors.isEmpty, let record { AtomicFile.remove(record) }
            return ThawOutcome(
                held: event.held ?? false, endedEarly: endedEarly, alreadyThawed: event.alreadyThawed ?? [],
                errors: errors, thawedAt: Date(timeIntervalSince1970: event.at / 1000))
        }
    }
}
