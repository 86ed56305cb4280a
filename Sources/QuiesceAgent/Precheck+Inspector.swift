import QuiesceAPI
import QuiesceSystem

extension Precheck {
    enum HostFileState {
        case absent
        case broken
        case loaded(PluginHostFile)
    }

    /// Looks at each framework file: facts, permission rule, contents. Each finding goes into
    /// the pre-check's files, errors and warnings.
    struct Inspector {
        let owner: UInt32
        let signatures: SignatureRule
        /// One for the whole check: the framework's files share most of their directories.
        let files = FileFacts.Reader()

        func hostFile(_ path: String, into check: inout Precheck) -> HostFileState {
            guard let facts = self.inspect(path, role: .pluginHost, rule: .pluginHost, into: &check)?.facts else {
                return .absent
            }
            let fail = { (check: inout Precheck, message: String) -> HostFileState in
                check.errors.append(ReportedError(code: .incorrectPluginhostFile, phase: .precheck, message: message))
                return .broken
            }
            if let violations = check.files.last?.violations, !violations.isEmpty {
                return fail(
                    &check, "the plugin host file breaks the permission rule: " + violations.joined(separator: "; "))
            }
            do {
                let host = try PluginHostFile.parse(
                    String(decoding: try FileReader.read(facts.target.path), as: UTF8.self), path: path)
                return .loaded(host)
            } catch let error as AgentError {
                return fail(&check, error.message)
            } catch {
                return fail(&check, "cannot read the plugin host file \(path): \(AgentError.describe(error))")
            }
        }

        /// The config, or nil when it is absent (recorded as an error if `fromHostFile`) or unusable.
        func pluginConfig(_ path: String, fromHostFile: Bool, into check: inout Precheck) -> PluginConfig? {
            let fail = { (check: inout Precheck, code: ErrorCode, message: String) -> PluginConfig? in
                check.errors.append(ReportedError(code: code, phase: .precheck, message: message))
                return nil
            }
            guard let inspected = self.inspect(path, role: .pluginConfig, rule: .pluginConfig, into: &check) else {
                if fromHostFile {
                    return fail(
                        &check, .incorrectPluginhostFile,
                        "the host file names plugin config \(path), which does not exist")
                }
                return nil
            }
            if let violations = check.files.last?.violations, !violations.isEmpty {
                return fail(
                    &check, .incorrectJSONConfigFile,
                    "the plugin config has unsafe permissions: " + violations.joined(separator: "; "))
            }
            do {
                let bytes = try inspected.contents ?? FileReader.read(inspected.facts.target.path)
                let loaded = try PluginConfig.parse(bytes, path: path)
                guard verifySignature(of: bytes, role: .pluginConfig, path: path, into: &check) else {
                    check.untrustedConfig = true
                    return nil
                }
                for key in loaded.unknownKeys {
                    check.warnings.append(
                        ReportedError(
                            code: .unknownConfigKey, phase: .precheck,
                            message: "\(path): unknown key `\(key)` is ignored; check its spelling"))
                }
                return loaded.config
            } catch let error as PluginConfig.Invalid {
                return fail(&check, error.code, error.message)
            } catch {
                return fail(
                    &check, .incorrectJSONConfigFile, "cannot read plugin config \(path): \(AgentError.describe(error))"
                )
            }
        }

        func script(of plugin: Plugin, phase: ScriptPhase, into check: inout Precheck) {
            let key = phase.locationKey
            let path = plugin.config.script(phase).location
            let notFound = phase.notFound
            guard !path.isEmpty else {
                check.errors.append(
                    ReportedError(
                        code: notFound, phase: .precheck,
                        message: "`\(key)` is empty in \(plugin.configPath); set it to the script's absolute path"))
                return
            }
            guard let inspected = self.inspect(path, role: phase.fileRole, rule: .script, into: &check) else {
                check.errors.append(
                    ReportedError(
                        code: notFound, phase: .precheck,
                        message: "\(path) (`\(key)` in \(plugin.configPath)) does not exist; install it owned by "
                            + "uid \(owner) with mode 0700"))
                return
            }
            if let violations = check.files.last?.violations, !violations.isEmpty {
                check.errors.append(
                    ReportedError(
                        code: phase.insufficientPermission,
                        phase: .precheck, message: violations.joined(separator: "; ")))
                return
            }
            if signatures.isOn {
                do {
                    let bytes = try inspected.contents ?? FileReader.read(path, limit: Self.contentLimit)
                    _ = verifySignature(of: bytes, role: .script, path: path, into: &check)
                } catch {
                    check.errors.append(
                        ReportedError(
                            code: phase.notFound, phase: .precheck,
                            message: "cannot read \(path) to check its signature: \(AgentError.describe(error))"))
                }
            }
        }

        /// With signing keys trusted: whether the file just inspected (the last of the files) has a
        /// valid signature by one of them, recorded on it, or an error saying why not. True when
        /// no keys are trusted.
        private func verifySignature(
            of bytes: [UInt8], role: ContentSignature.Role, path: String, into check: inout Precheck
        ) -> Bool {
            guard signatures.isOn else { return true }
            switch signatures.signerOfFile(bytes, role: role, path: path) {
            case .success(let key):
                check.files[check.files.count - 1].signedBy = key.description
                return true
            case .failure(let refusal):
                check.errors.append(
                    ReportedError(code: .signatureInvalid, phase: .precheck, message: refusal.description))
                return false
            }
        }

        /// Scripts are read whole to hash them; larger is not a script.
        private static let contentLimit = 16 * 1024 * 1024

        /// A file that resolved, with its contents when they were read for its digest.
        struct Inspected {
            var facts: FileFacts
            var contents: [UInt8]?
        }

        /// Records the file's facts and violations; nil when the path does not resolve.
        private func inspect(
            _ path: String, role: FileCheck.Role, rule: PermissionRule, into check: inout Precheck
        ) -> Inspected? {
            do {
                let facts = try files.facts(of: path)
                // Pushed files are content addressed: their digest shows drift from what was pushed.
                // A config is read with the reader's usual limit: one larger is refused when parsed.
                let contents: [UInt8]? =
                    switch (rule, facts.target.isRegularFile) {
                    case (.script, true): try? FileReader.read(facts.target.path, limit: Self.contentLimit)
                    case (.pluginConfig, true): try? FileReader.read(facts.target.path)
                    default: nil
                    }
                check.files.append(
                    FileCheck(
                        role: role, path: path, exists: true, ownerUid: facts.target.ownerUid,
                        mode: PermissionRule.octal(facts.target.permissions),
                        violations: rule.violations(of: facts, owner: owner),
                        sha256: contents.map { ContentHash.sha256(of: $0) }))
                return Inspected(facts: facts, contents: contents)
            } catch {
                check.files.append(
                    FileCheck(
                        role: role, path: path, exists: false, ownerUid: nil, mode: nil,
                        violations: error.isNotFound ? [] : ["cannot inspect \(path): \(error.reason)"]))
                return nil
            }
        }
    }
}
