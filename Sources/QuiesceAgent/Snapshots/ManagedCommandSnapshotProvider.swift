import FoundationEssentials
import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// The `command` provider with `snapshot.listCommand` and `snapshot.deleteCommand`: snapshots
/// kept wherever the command put them (a cloud's disk snapshots, a backup server) are listed and
/// pruned through the site's own programs, under the same retention as btrfs and LVM.
///
/// `listCommand` prints one snapshot per line, `<id> TAB <origin> TAB <created, RFC 3339>`;
/// `deleteCommand` deletes the one in `QUIESCE_SNAPSHOT_ID` (`QUIESCE_SNAPSHOT_ORIGIN` beside
/// it) and exits 0.
public struct ManagedCommandSnapshotProvider: ManagedSnapshotProvider {
    public let taking: CommandSnapshotProvider
    public let listCommand: [String]
    public let deleteCommand: [String]

    public var name: String { taking.name }

    public init(taking: CommandSnapshotProvider, listCommand: [String], deleteCommand: [String]) {
        self.taking = taking
        self.listCommand = listCommand
        self.deleteCommand = deleteCommand
    }

    public func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome {
        await taking.takeSnapshot(request)
    }

    public func listSnapshots() async -> Result<[SnapshotRecord], SnapshotManagementError> {
        await run(listCommand, environment: [:], what: "snapshot.listCommand").flatMap { output in
            Self.parseListing(output).map { $0.sorted { $0.createdAt < $1.createdAt } }
        }
    }

    public func deleteSnapshot(_ snapshot: SnapshotRecord) async -> Result<Void, SnapshotManagementError> {
        await run(
            deleteCommand,
            environment: ["QUIESCE_SNAPSHOT_ID": snapshot.id, "QUIESCE_SNAPSHOT_ORIGIN": snapshot.origin],
            what: "snapshot.deleteCommand"
        ).map { _ in () }
    }

    /// `listCommand`'s lines as records; a line that is not three fields with a time is an error
    /// naming it, so a broken listing deletes nothing.
    static func parseListing(_ output: String) -> Result<[SnapshotRecord], SnapshotManagementError> {
        var records: [SnapshotRecord] = []
        for (index, line) in output.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
            guard fields.count == 3, !fields[0].isEmpty, !fields[1].isEmpty,
                let createdAt = QuiesceJSON.date(fields[2])
            else {
                return .failure(
                    SnapshotManagementError(
                        message: "snapshot.listCommand line \(index + 1) is not `<id> TAB <origin> TAB <RFC 3339 "
                            + "time>`: \"\(line.prefix(200))\"; nothing was deleted"))
            }
            records.append(
                SnapshotRecord(provider: "command", id: fields[0], origin: fields[1], createdAt: createdAt, session: "")
            )
        }
        return .success(records)
    }

    private func run(_ command: [String], environment: [String: String], what: String) async -> Result<
        String, SnapshotManagementError
    > {
        guard let executable = command.first else { return .failure(.init(message: "no \(what) is configured")) }
        let run = await taking.scripts.run(
            ScriptInvocation(
                executable: FilePath(executable), arguments: Array(command.dropFirst()),
                environment: ScriptEnvironment.base.merging(environment) { $1 }, budget: taking.timeout,
                killGrace: taking.killGrace, tailLimit: 1 << 20))
        switch run.outcome {
        case .succeeded:
            return .success(run.stdout.text)
        case .failed:
            return .failure(.init(message: "\(what) \(executable) \(run.ending): \(run.stderr.text.suffix(500))"))
        case .timedOut:
            return .failure(.init(message: "\(what) \(executable) ran longer than \(taking.timeout) and was killed"))
        case .couldNotStart(let reason):
            return .failure(.init(message: "\(what) \(executable) could not start: \(reason)"))
        }
    }
}
