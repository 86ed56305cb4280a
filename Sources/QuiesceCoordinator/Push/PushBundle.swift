import Foundation
import QuiesceAPI

/// The files one push sends: a plugin config checked with the agents' own loader, and the
/// scripts it names, each with its SHA-256. Loading it touches no VM.
public struct PushBundle: Sendable {
    public struct File: Sendable {
        /// The script this is; nil for the plugin config.
        public var phase: ScriptPhase?
        public var bytes: [UInt8]
        public var sha256: String
        /// Where the coordinator read it.
        public var source: String

        init(phase: ScriptPhase?, bytes: [UInt8], source: String) {
            self.phase = phase
            self.bytes = bytes
            self.sha256 = SHA256.hex(of: bytes)
            self.source = source
        }

        /// `pluginConfig`, `preScript` or `postScript`, as in the agent's compliance report.
        public var role: FileCheck.Role { phase?.fileRole ?? .pluginConfig }

        /// Where it is `PUT` on an agent.
        public var route: String { phase.map(AgentRoutes.script) ?? AgentRoutes.pluginConfig }
    }

    public var pluginConfig: File
    public var config: PluginConfig
    public var scripts: [ScriptPhase: File]

    /// Every file, in the order they are pushed: the config first, since each agent checks a
    /// script against the paths of the config it already has.
    public var files: [File] { [pluginConfig] + ScriptPhase.allCases.compactMap { scripts[$0] } }

    /// What a sweep should find on each of `vms` once they have this bundle.
    public func expectedFiles(on vms: [String], origin: String) -> Sweep.Expected {
        let files = Dictionary(
            uniqueKeysWithValues: self.files.map {
                ($0.role.rawValue, Sweep.ExpectedFile(sha256: $0.sha256, origin: origin))
            })
        return Dictionary(uniqueKeysWithValues: vms.map { ($0, files) })
    }

    /// Reads and validates the files; throws with every problem before anything is sent.
    public static func load(pluginConfig: String, preScript: String?, postScript: String?) throws(PushError)
        -> PushBundle
    {
        var problems: [String] = []
        let configBytes = read(pluginConfig, into: &problems)
        var config: PluginConfig?
        if let configBytes {
            do {
                let loaded = try PluginConfig.parse(configBytes, path: pluginConfig)
                config = loaded.config
                problems += loaded.unknownKeys.map {
                    "\(pluginConfig): unknown key `\($0)`; check its spelling (agents ignore it)"
                }
            } catch {
                problems.append("\(error.code): \(error.message)")
            }
        }
        var scripts: [ScriptPhase: File] = [:]
        for (phase, path) in zip(ScriptPhase.allCases, [preScript, postScript]) {
            guard let path, let bytes = read(path, into: &problems) else { continue }
            if !bytes.starts(with: Array("#!".utf8)) {
                problems.append(
                    "\(path) does not start with #! (a shebang line): agents run scripts directly, so name the "
                        + "interpreter, e.g. #!/bin/sh"
                )
            }
            if let config, config.script(phase).location.isEmpty {
                problems.append(
                    "\(path) is given but `\(phase.locationKey)` in \(pluginConfig) is empty: the agents would have "
                        + "nowhere to put it"
                )
            }
            scripts[phase] = File(phase: phase, bytes: bytes, source: path)
        }
        guard problems.isEmpty, let configBytes, let config else {
            throw PushError(message: "nothing was pushed:\n  " + problems.joined(separator: "\n  "))
        }
        return PushBundle(
            pluginConfig: File(phase: nil, bytes: configBytes, source: pluginConfig), config: config, scripts: scripts)
    }

    /// Pushed files are small; anything larger is a mistake (a binary, a log) and agents would refuse it.
    static let sizeLimit = 1 << 20

    private static func read(_ path: String, into problems: inout [String]) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: path) else {
            problems.append("cannot read \(path): check the path and that it is readable")
            return nil
        }
        guard data.count <= sizeLimit else {
            problems.append("\(path) is \(data.count) bytes; pushed files are limited to \(sizeLimit) bytes")
            return nil
        }
        return Array(data)
    }
}

/// A push that cannot start: the files are unusable. Nothing was sent anywhere.
public struct PushError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
