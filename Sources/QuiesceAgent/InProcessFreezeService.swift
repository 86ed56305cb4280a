import FoundationEssentials
import QuiesceSystem

/// Freezes in the calling process through a `FileSystemFreezer`, with no guard and no deadline:
/// for tests of the cycle over a fake freezer.
public struct InProcessFreezeService: FreezeService {
    public let freezer: any FileSystemFreezer

    public init(freezer: any FileSystemFreezer) { self.freezer = freezer }

    public func freeze(_ mounts: [String], timeout: Duration, at instant: Date?) async
        -> Result<any HeldFreeze, FreezeFailure>
    {
        // At the instant on a thread of its own, as a guard would: a simulated fleet's agents
        // share one process, whose busy pool would otherwise make them late.
        let freezer = freezer
        let (since, outcome, frozenAt) = await OwnThread.run(at: instant ?? Date()) {
            let since = Date()
            let outcome = FrozenMounts.freeze(mounts, with: freezer)
            return (since, outcome, Date())
        }
        switch outcome {
        case .success(let frozen):
            return .success(Held(frozen: frozen, freezingSince: since, frozenAt: frozenAt))
        case .failure(let failure):
            return .failure(
                FreezeFailure(
                    mount: failure.mount, reason: "\(failure.cause.call): \(failure.cause.reason)",
                    alreadyFrozen: failure.alreadyFrozen, rolledBack: failure.rolledBack,
                    rollbackErrors: failure.rollbackErrors.map(\.description)))
        }
    }

    public func flush(_ mounts: [String]) async -> [String] {
        mounts.compactMap { mount -> String? in
            do throws(SystemError) {
                try freezer.flush(mount: mount)
                return nil
            } catch {
                return error.description
            }
        }
    }

    private struct Held: HeldFreeze {
        let frozen: FrozenMounts
        let freezingSince: Date
        let frozenAt: Date
        var preparation: FreezePreparation { FreezePreparation() }

        func thaw() async -> ThawOutcome {
            let thaw = frozen.thawAll()
            return ThawOutcome(
                held: thaw.alreadyThawed.isEmpty, endedEarly: nil, alreadyThawed: thaw.alreadyThawed,
                errors: thaw.errors.map(\.description), thawedAt: Date())
        }
    }
}
