import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// The operator's escape hatch: FITHAW on every candidate mount and on every mount a freeze
/// guard noted, each reported. Thawing a mount that is not frozen does nothing, so this is
/// safe to run at any time. `serve` runs it at start on the noted mounts only (`candidates`
/// false): what a crashed agent and its guard left frozen, and nobody else's freeze.
public enum ThawAll {
    public static func run(
        settings: AgentSettings, candidates: Bool = true, freezer: any FileSystemFreezer = IoctlFreezer()
    ) -> ThawAllReport {
        var errors: [String] = []
        var order: [String] = []
        var sources: [String: [String]] = [:]
        let add = { (mount: String, source: String) in
            if sources[mount] == nil { order.append(mount) }
            sources[mount, default: []].append(source)
        }
        if candidates {
            do {
                try settings.freezePlan().mounts.forEach { add($0, "candidate") }
            } catch {
                errors.append("cannot list the mounts: \(error)")
            }
        }
        let records = GuardRecords(directory: settings.stateDirectory).all()
        for record in records { record.mounts.forEach { add($0, "guardRecord") } }

        // Thaw in reverse of the freeze order: `/` (frozen last) first.
        var mounts: [ThawAllReport.Mount] = []
        for mount in order.reversed() {
            do {
                try freezer.thaw(mount: mount)
                mounts.append(.init(mountPoint: mount, result: .thawed, sources: sources[mount]!))
            } catch  where error.errno == .invalidArgument {
                mounts.append(.init(mountPoint: mount, result: .notFrozen, sources: sources[mount]!))
            } catch {
                mounts.append(
                    .init(mountPoint: mount, result: .failed, sources: sources[mount]!, message: error.description))
            }
        }
        // A record whose mounts are all thawed now has done its job.
        let failed = Set(mounts.filter { $0.result == .failed }.map(\.mountPoint))
        for record in records where record.mounts.allSatisfy({ !failed.contains($0) }) {
            AtomicFile.remove(record.path)
        }
        return ThawAllReport(mounts: mounts, errors: errors)
    }
}
