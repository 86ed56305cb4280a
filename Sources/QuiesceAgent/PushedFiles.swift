import FoundationEssentials
import QuiesceAPI
import QuiesceSystem

/// Files the coordinator pushes: validated before anything is written, written atomically with
/// the framework's modes and owner, never through a symlink, scripts only under the script root.
/// A rejected push changes nothing.
public struct PushedFiles: Sendable {
    public let settings: AgentSettings

    public init(settings: AgentSettings) { self.settings = settings }

    /// Why a push is refused; `code` decides the HTTP status. Nothing was written.
    public struct Refusal: APIError, Sendable {
        public var code: ErrorCode
        public var message: String
        public var details: [String] = []
        /// The error underneath: an invalid config, a failed system call.
        public var cause: (any Error)?

        public var httpStatus: Int {
            switch code {
            case .outsideScriptRoot, .insecureScriptRoot, .signatureInvalid: 403
            case .badRequest: 400
            case .writeFailed: 500
            default: 422
            }
        }
    }

    /// Replaces the plugin config after checking it with the same loader the cycle uses.
    /// `signature` is the detached signature line that came with it (see `SignatureRule`).
    public func replacePluginConfig(_ bytes: [UInt8], signature: String? = nil) throws(Refusal) -> WriteResult {
        try write(try planPluginConfig(bytes, signature: signature).write)
    }

    /// Replaces the pre- or post-script the current plugin config names, after checking the
    /// body's SHA-256 and that the path is under the script root.
    public func replaceScript(
        _ phase: ScriptPhase, _ bytes: [UInt8], sha256: String?, signature: String? = nil
    ) throws(Refusal) -> WriteResult {
        try write(try planScript(phase, bytes, sha256: sha256, signature: signature, config: try currentConfig()))
    }

    /// The config and the scripts it names, each checked as its own push is (the scripts against
    /// this config) before anything is written; then the scripts, then the config, so the new
    /// config never names a script not written yet. A refusal writes nothing; a write that fails
    /// part-way says what was already written.
    public func replaceBundle(_ upload: BundleUpload) throws(Refusal) -> BundleWritten {
        let configBytes = try Self.bytes(of: upload.pluginConfig, role: .pluginConfig)
        let (configWrite, config) = try planPluginConfig(configBytes, signature: upload.pluginConfig.signature)
        var writes: [(FileCheck.Role, PlannedWrite)] = []
        for phase in ScriptPhase.allCases {
            guard let file = phase == .pre ? upload.preScript : upload.postScript else { continue }
            let bytes = try Self.bytes(of: file, role: phase.fileRole)
            writes.append(
                (
                    phase.fileRole,
                    try planScript(phase, bytes, sha256: file.sha256, signature: file.signature, config: config)
                ))
        }
        writes.append((.pluginConfig, configWrite))
        var written: [BundleWritten.File] = []
        for (role, planned) in writes {
            do {
                written.append(BundleWritten.File(role: role, result: try write(planned)))
            } catch  where !written.isEmpty {
                var partial = error
                partial.message +=
                    "; already written: "
                    + written.map { "\($0.role.rawValue) \($0.result.path)" }.joined(separator: ", ")
                    + ". Push again"
                throw partial
            }
        }
        return BundleWritten(files: written)
    }

    /// A file checked and ready to write.
    struct PlannedWrite {
        var bytes: [UInt8]
        var path: String
        var mode: UInt32
        var directoryMode: UInt32
        /// The directory the file lands in must resolve to a place under it.
        var root: String?
        var signature: String?
    }

    private func planPluginConfig(_ bytes: [UInt8], signature: String?) throws(Refusal) -> (
        write: PlannedWrite, config: PluginConfig
    ) {
        let config: PluginConfig
        do {
            config = try PluginConfig.parse(bytes, path: settings.pluginConfigPath).config
        } catch {
            throw Refusal(
                code: error.code, message: "the plugin config was not written: it is invalid", details: [error.message],
                cause: error)
        }
        let path = settings.pluginConfigPath
        let kept = try keptSignature(signature, of: bytes, role: .pluginConfig, path: path)
        return (PlannedWrite(bytes: bytes, path: path, mode: 0o600, directoryMode: 0o755, signature: kept), config)
    }

    /// The plugin config on disk, which names where a script pushed alone goes.
    private func currentConfig() throws(Refusal) -> PluginConfig {
        do {
            return try PluginConfig.parse(
                try FileReader.read(settings.pluginConfigPath), path: settings.pluginConfigPath
            ).config
        } catch let error as PluginConfig.Invalid {
            throw Refusal(code: error.code, message: "push a valid plugin config first: \(error.message)", cause: error)
        } catch {
            throw Refusal(
                code: .incorrectJSONConfigFile,
                message: "push a plugin config first: \(settings.pluginConfigPath) cannot be read (\(error))",
                cause: error)
        }
    }

    private func planScript(
        _ phase: ScriptPhase, _ bytes: [UInt8], sha256: String?, signature: String?, config: PluginConfig
    ) throws(Refusal) -> PlannedWrite {
        guard let expected = sha256?.lowercased(), expected.count == 64 else {
            throw Refusal(
                code: .badRequest,
                message: "send the script's SHA-256 as 64 hex digits in the \(AgentRoutes.contentSHA256Header) header")
        }
        let actual = ContentHash.sha256(of: bytes)
        guard actual == expected else {
            throw Refusal(
                code: .hashMismatch,
                message: "the body's SHA-256 is \(actual), the header says \(expected): the script was damaged or "
                    + "truncated on the way; nothing was written")
        }
        let path = config.script(phase).location
        let key = phase.locationKey
        guard !path.isEmpty else {
            throw Refusal(
                code: phase.notFound,
                message: "`\(key)` is empty in the plugin config; push a config that names the script first")
        }
        guard Self.isInside(path, root: settings.server.scriptRoot) else {
            throw Refusal(
                code: .outsideScriptRoot,
                message:
                    "\(path) (`\(key)`) is outside the script root \(settings.server.scriptRoot); pushed scripts are "
                    + "only written there. Point the config at a path under it")
        }
        // The root must be as private as the scripts in it: whoever can write a directory on the
        // way can swap what the agent runs as root.
        let root = settings.server.scriptRoot
        if let facts = try? FileFacts.read(path: root) {
            let violations = PermissionRule.directoryViolations(of: facts, owner: settings.requiredOwnerUid)
            guard violations.isEmpty else {
                throw Refusal(
                    code: .insecureScriptRoot,
                    message: "the script root \(root) is not private, so nothing is written to it: "
                        + violations.joined(separator: "; "))
            }
        }
        let kept = try keptSignature(signature, of: bytes, role: .script, path: path)
        return PlannedWrite(bytes: bytes, path: path, mode: 0o700, directoryMode: 0o700, root: root, signature: kept)
    }

    /// A bundle file's bytes, checked against its SHA-256.
    private static func bytes(of file: BundleUpload.File, role: FileCheck.Role) throws(Refusal) -> [UInt8] {
        guard let data = Data(base64Encoded: file.content) else {
            throw Refusal(code: .badRequest, message: "`\(role.rawValue).content` is not base64; nothing was written")
        }
        let bytes = [UInt8](data)
        let actual = ContentHash.sha256(of: bytes)
        guard actual == file.sha256.lowercased() else {
            throw Refusal(
                code: .hashMismatch,
                message: "the \(role.rawValue)'s SHA-256 is \(actual), `\(role.rawValue).sha256` says \(file.sha256): "
                    + "it was damaged or truncated on the way; nothing was written")
        }
        return bytes
    }

    /// The signature line to keep beside the file, after checking it, in its one written form:
    /// with trusted keys it must be a valid signature by one of them; without, any well-formed
    /// one is kept (so turning the rule on later does not need a new push), and none removes a
    /// stale one.
    private func keptSignature(
        _ line: String?, of bytes: [UInt8], role: ContentSignature.Role, path: String
    ) throws(Refusal) -> String? {
        let rule = SignatureRule(keys: settings.trust.signingKeys)
        if rule.isOn, case .failure(let refusal) = rule.signer(of: bytes, role: role, signature: line, path: path) {
            throw Refusal(code: .signatureInvalid, message: "\(refusal); nothing was written")
        }
        guard let line else { return nil }
        do {
            return try ContentSignature(line: line).line
        } catch {
            throw Refusal(
                code: .badRequest,
                message: "the \(ContentSignature.header) header is unreadable: \(error); nothing "
                    + "was written")
        }
    }

    /// True when `path`, taken literally, lies strictly under `root`; `..` and `.` are refused
    /// rather than interpreted.
    static func isInside(_ path: String, root: String) -> Bool {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix("/"), !components.contains(".."), !components.dropFirst().contains("."),
            !components.dropFirst().contains("")
        else { return false }
        let base = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(base) && path.count > base.count
    }

    /// Missing parent directories are created with `directoryMode`.
    /// With `root`, the directory the file lands in must resolve to a place under it: a symlinked
    /// directory inside the root does not lead a push out of it.
    /// The signature goes beside the file first, so that in between a cycle finds a signature
    /// that does not match and runs nothing, never an unchecked file; it is put back when the
    /// file cannot be written.
    private func write(_ planned: PlannedWrite) throws(Refusal) -> WriteResult {
        let (bytes, path, mode, directoryMode, root, signature) = (
            planned.bytes, planned.path, planned.mode, planned.directoryMode, planned.root, planned.signature
        )
        let digest = ContentHash.sha256(of: bytes)
        let signaturePath = path + ContentSignature.fileSuffix
        let previousSignature = try? FileReader.read(signaturePath, limit: 4096)
        let newSignature = signature.map { Array(($0 + "\n").utf8) }
        // A retried push of the same content is harmless and reported as such.
        if let current = try? FileReader.read(path, limit: bytes.count + 1), current == bytes,
            let facts = try? FileFacts.read(path: path), facts.path == facts.target.path,
            facts.target.permissions == mode, facts.target.ownerUid == settings.requiredOwnerUid,
            previousSignature == newSignature
        {
            return WriteResult(path: path, sha256: digest, changed: false)
        }
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        do {
            if !directory.isEmpty { try Directory.make(directory, mode: directoryMode) }
        } catch {
            throw Refusal(code: .writeFailed, message: "cannot write \(path): \(error)", cause: error)
        }
        if let root, let resolvedRoot = try? FileFacts.resolvedPath(of: root),
            let resolved = try? FileFacts.resolvedPath(of: directory),
            resolved != resolvedRoot && !resolved.hasPrefix(resolvedRoot + "/")
        {
            throw Refusal(
                code: .outsideScriptRoot,
                message: "\(directory) resolves to \(resolved), outside the script root \(resolvedRoot) (a symlink on "
                    + "the way); nothing was written. Replace the link with a directory")
        }
        do {
            try replaceSignature(at: signaturePath, with: newSignature)
        } catch {
            throw Refusal(code: .writeFailed, message: "cannot write \(signaturePath): \(error)", cause: error)
        }
        do {
            try AtomicFile.write(bytes, to: path, mode: mode, owner: settings.requiredOwnerUid)
        } catch {
            try? replaceSignature(at: signaturePath, with: previousSignature)
            throw Refusal(code: .writeFailed, message: "cannot write \(path): \(error)", cause: error)
        }
        return WriteResult(path: path, sha256: digest, changed: true)
    }

    private func replaceSignature(at path: String, with bytes: [UInt8]?) throws(SystemError) {
        if let bytes {
            try AtomicFile.write(bytes, to: path, mode: 0o600, owner: settings.requiredOwnerUid)
        } else {
            AtomicFile.remove(path)
        }
    }
}
