import FoundationEssentials
import QuiesceAPI

/// LVM snapshots (`lvcreate --snapshot`) of configured origin volumes, created while frozen.
///
/// LVM suspends the origin's device-mapper device to take the snapshot, which works on a file
/// system already frozen with FIFREEZE (the kernel counts both freezes). udev is not waited
/// for (`udev_sync = 0`), so this also works where no udev daemon runs, as in containers.
public struct LVMSnapshotProvider: ManagedSnapshotProvider {
    public var name: String { "lvm" }
    /// Origin volumes as `VG/LV`.
    public let volumes: [String]
    /// Copy-on-write space per snapshot: `--size` (e.g. `1G`) or, with a `%`, `--extents`
    /// (e.g. `10%ORIGIN`).
    public let size: String
    let tools: (create: SystemTool, list: SystemTool, remove: SystemTool)

    static let noUdev = ["--config", "activation { udev_sync = 0 udev_rules = 0 }"]

    public init(volumes: [String], size: String, timeout: Duration) {
        self.volumes = volumes
        self.size = size
        tools = (
            SystemTool(name: "lvcreate", timeout: timeout), SystemTool(name: "lvs", timeout: timeout),
            SystemTool(name: "lvremove", timeout: timeout)
        )
    }

    public func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome {
        let name = SnapshotName.make(sessionId: request.sessionId)
        var made: [String] = []
        for volume in volumes {
            let sizeArguments = size.contains("%") ? ["--extents", size] : ["--size", size]
            switch await tools.create.run(
                ["--snapshot", "--name", name, "--permission", "r"] + sizeArguments + Self.noUdev + [volume])
            {
            case .success:
                made.append("\(volume.split(separator: "/").first ?? "")/\(name)")
            case .failure(let failure):
                return .failed(
                    failure.message, output: made.map { "made \($0) before the failure" }.joined(separator: "\n"))
            }
        }
        return .taken(id: name, output: made.joined(separator: "\n"))
    }

    public func listSnapshots() async -> Result<[SnapshotRecord], SnapshotManagementError> {
        let arguments = [
            "--reportformat", "json", "--options", "lv_name,vg_name,origin", "--select", "lv_name=~^quiesce-",
        ]
        switch await tools.list.run(arguments + Self.noUdev) {
        case .success(let output):
            return Self.parseReport(output).map { records in
                records.filter { record in volumes.contains(record.origin) }.sorted { $0.createdAt < $1.createdAt }
            }
        case .failure(let failure):
            return .failure(SnapshotManagementError(message: failure.message))
        }
    }

    public func deleteSnapshot(_ snapshot: SnapshotRecord) async -> Result<Void, SnapshotManagementError> {
        await tools.remove.run(["--yes"] + Self.noUdev + [snapshot.id]).map { _ in () }
            .mapError { SnapshotManagementError(message: $0.message) }
    }

    /// Parses `lvs --reportformat json` output: `{"report": [{"lv": [{"lv_name", "vg_name", "origin"}]}]}`.
    static func parseReport(_ output: String) -> Result<[SnapshotRecord], SnapshotManagementError> {
        struct Report: Decodable {
            struct Section: Decodable { var lv: [Volume] }
            struct Volume: Decodable {
                var lvName: String
                var vgName: String
                var origin: String

                enum CodingKeys: String, CodingKey {
                    case lvName = "lv_name"
                    case vgName = "vg_name"
                    case origin
                }
            }
            var report: [Section]
        }
        guard let report = try? JSONDecoder().decode(Report.self, from: Data(output.utf8)) else {
            return .failure(SnapshotManagementError(message: "cannot read the output of lvs: \(output.prefix(200))"))
        }
        return .success(
            report.report.flatMap(\.lv).compactMap { volume in
                guard let parsed = SnapshotName.parse(volume.lvName) else { return nil }
                return SnapshotRecord(
                    provider: "lvm", id: "\(volume.vgName)/\(volume.lvName)",
                    origin: "\(volume.vgName)/\(volume.origin)",
                    createdAt: parsed.createdAt, session: parsed.session)
            })
    }
}
