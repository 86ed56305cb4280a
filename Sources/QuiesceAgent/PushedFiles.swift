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
        do {
            _ = try PluginConfig.parse(bytes, path: settings.pluginConfigPath)
        } catch {
            throw Refusal(
                code: error.code, message: "the plugin config was not written: it is invalid", details: [error.message],
                cause: error)
        }
        let path = settings.pluginConfigPath
        let kept = try keptSignature(signature, of: bytes, role: .pluginConfig, path: path)
        return try write(bytes, to: path, mode: 0o600, directoryMode: 0o755, signature: kept)
    }

    /// Replaces the pre- or post-script the current plugin config names, after checking the
    /// body's SHA-256 and that the path is under the script root.
    public func replaceScript(
        _ phase: ScriptPhase, _ bytes: [UInt8], sha256: String?, signature: String? = nil
    ) throws(Refusal) -> WriteResult {
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
        let config: PluginConfig
        do {
            config = try PluginConfig.parse(
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
        return try write(bytes, to: path, mode: 0o700, directoryMode: 0o700, within: root, signature: kept)
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
    private func write(
        _ bytes: [UInt8], to path: String, mode: UInt32, directoryMode: UInt32, within root: String? = nil,
        signature: String?
    ) throws(Refusal) -> WriteResult {
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
        if let root, let resolvedRoot = try? FileFacts.read(path: root).target.path,
            let resolved = try? FileFacts.read(path: directory).target.path,
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
