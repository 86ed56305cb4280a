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
        /// The detached signature found beside it (`SOURCE.sig`, from `quiesce sign`), sent along.
        public var signature: ContentSignature?

        init(phase: ScriptPhase?, bytes: [UInt8], source: String, signature: ContentSignature? = nil) {
            self.phase = phase
            self.bytes = bytes
            self.sha256 = ContentHash.sha256(of: bytes)
            self.source = source
            self.signature = signature
        }

        /// How the signature is checked and sent.
        public var signatureRole: ContentSignature.Role { phase == nil ? .pluginConfig : .script }

        /// `pluginConfig`, `preScript` or `postScript`, as in the agent's compliance report.
        public var role: FileCheck.Role { phase?.fileRole ?? .pluginConfig }

        /// Where it is `PUT` on an agent.
        public var route: String { phase.map(AgentRoutes.script) ?? AgentRoutes.pluginConfig }
    }

    public var pluginConfig: File
    public var config: PluginConfig
    public var scripts: [ScriptPhase: File]

    /// Every file, in the order they are pushed one at a time: the config first, since each agent
    /// checks a script against the paths of the config it already has.
    public var files: [File] { [pluginConfig] + ScriptPhase.allCases.compactMap { scripts[$0] } }

    /// The whole bundle as one request (`PUT /v1/bundle`).
    public var upload: BundleUpload {
        let wire = { (file: File) in
            BundleUpload.File(bytes: file.bytes, sha256: file.sha256, signature: file.signature?.line)
        }
        return BundleUpload(
            pluginConfig: wire(pluginConfig), preScript: scripts[.pre].map(wire), postScript: scripts[.post].map(wire))
    }

    /// What a sweep should find on each of `vms` once they have this bundle.
    public func expectedFiles(on vms: [String], origin: String) -> Sweep.Expected {
        let files = Dictionary(
            uniqueKeysWithValues: self.files.map {
                ($0.role.rawValue, Sweep.ExpectedFile(sha256: $0.sha256, origin: origin))
            })
        return Dictionary(uniqueKeysWithValues: vms.map { ($0, files) })
    }

    /// Reads and validates the files, and the signatures beside them unless `withSignatures` is
    /// false (for signing them anew); throws with every problem before anything is sent.
    public static func load(
        pluginConfig: String, preScript: String?, postScript: String?, withSignatures: Bool = true
    ) throws(PushError) -> PushBundle {
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
        var pluginConfigFile = configBytes.map { File(phase: nil, bytes: $0, source: pluginConfig) }
        if withSignatures {
            let configSignature = signature(of: pluginConfigFile, into: &problems)
            pluginConfigFile?.signature = configSignature
            for (phase, script) in scripts { scripts[phase]?.signature = signature(of: script, into: &problems) }
        }
        guard problems.isEmpty, let pluginConfigFile, let config else {
            throw PushError(message: "nothing was pushed:\n  " + problems.joined(separator: "\n  "))
        }
        return PushBundle(pluginConfig: pluginConfigFile, config: config, scripts: scripts)
    }

    /// The signature `quiesce sign` left beside `file`, checked here so that a stale one (the file
    /// changed after signing) is caught before any agent refuses it.
    private static func signature(of file: File?, into problems: inout [String]) -> ContentSignature? {
        guard let file else { return nil }
        let path = file.source + ContentSignature.fileSuffix
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            let signature = try ContentSignature(line: String(decoding: data, as: UTF8.self))
            guard signature.isValid(for: file.bytes, role: file.signatureRole) else {
                problems.append(
                    "\(path) does not match \(file.source) (changed after signing?): sign it again with `quiesce "
                        + "sign`")
                return nil
            }
            return signature
        } catch {
            problems.append("\(path) is unreadable (\(error)): sign \(file.source) again with `quiesce sign`")
            return nil
        }
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
