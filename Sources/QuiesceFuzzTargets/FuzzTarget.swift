import QuiesceAPI
import QuiesceAgent
import QuiesceCoordinator
import QuiesceSystem

/// Every parser that reads bytes from outside: files a user writes, bodies a client sends, the
/// kernel's mount table. Each target feeds one input through one parser the way the agent or the
/// coordinator does; a refusal is the right answer to bad input, a crash or a hang is a bug.
/// `quiesce-fuzz` runs them under libFuzzer; the tests replay the seed corpora and every crash
/// ever found (`Fuzz/`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `VMSnapshotScriptPluginConfig.json`, on disk or pushed.
    case pluginConfig = "plugin-config"
    /// `VMSnapshotPluginHost.conf`.
    case hostFile = "host-file"
    /// The agent's own settings file.
    case agentSettings = "agent-settings"
    /// The coordinator's fleet inventory.
    case fleetInventory = "fleet-inventory"
    /// The session routes' and the bundle route's JSON bodies; the first byte picks the route.
    case requestBodies = "request-bodies"
    /// `/proc/self/mountinfo`, and the freeze candidates chosen from it.
    case mountinfo

    /// Parses `bytes`; the outcome is thrown away, only crashing matters.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .pluginConfig:
            _ = try? PluginConfig.parse(bytes, path: "fuzz.json")
        case .hostFile:
            _ = try? PluginHostFile.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.conf")
        case .agentSettings:
            _ = try? AgentSettings.parse(bytes, path: "fuzz.json")
        case .fleetInventory:
            _ = try? FleetInventory.parse(bytes, path: "fuzz.json", fileExists: { _ in true })
        case .requestBodies:
            Self.decodeRequestBody(bytes)
        case .mountinfo:
            let table = MountTable.parse(String(decoding: bytes, as: UTF8.self))
            _ = FreezeCandidates.select(from: table, skip: ["/boot"], includeLoopDevices: false)
        }
    }

    private static func decodeRequestBody(_ bytes: [UInt8]) {
        guard let route = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        switch route % 5 {
        case 0:
            _ = try? StrictRequestBody.decode(SessionRequest.self, from: body, allowedKeys: ["id", "leaseSeconds"])
        case 1:
            _ = try? StrictRequestBody.decode(
                SnapshotPhaseRequest.self, from: body, allowedKeys: ["external"], optional: true)
        case 2:
            _ = try? StrictRequestBody.decode(
                FinishPhaseRequest.self, from: body, allowedKeys: ["abortReason"], optional: true)
        case 3:
            let freeze = try? StrictRequestBody.decode(
                FreezePhaseRequest.self, from: body, allowedKeys: ["freezeAt"], optional: true)
            try? freeze?.checkLead()
        default:
            _ = try? StrictRequestBody.decode(
                BundleUpload.self, from: body, allowedKeys: BundleUpload.keys,
                nestedKeys: BundleUpload.nestedKeys)
        }
    }
}

extension FuzzTarget {
    /// The input files at `path`: the files of a directory, sorted, or the file itself.
    public static func inputs(at path: String) -> [String] {
        guard let names = try? DirectoryListing.names(in: path) else { return [path] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
    }
}
