import QuiesceAPI
import QuiesceSystem

extension Precheck {
    /// Runs every check of the pre-check against the file system. Runs nothing, changes nothing.
    public static func run(settings: AgentSettings) -> Precheck {
        let inspector = Inspector(
            owner: settings.requiredOwnerUid, signatures: SignatureRule(keys: settings.trust.signingKeys))
        var check = Precheck(verdict: .ready, plugins: [], policy: CyclePolicy())

        let configs: [(name: String?, path: String)]
        let cap: (seconds: Int, source: String)
        switch inspector.hostFile(settings.pluginHostPath, into: &check) {
        case .absent:
            configs = [(nil, settings.pluginConfigPath)]
            cap = (settings.scriptTimeoutCapSeconds, "the agent's scriptTimeoutCapSeconds")
        case .broken:
            configs = []
            cap = (settings.scriptTimeoutCapSeconds, "")
        case .loaded(let host):
            configs = host.plugins.map { ($0.name, $0.configPath) }
            cap =
                host.timeoutInSeconds.map { ($0, "the host file \(settings.pluginHostPath)") }
                ?? (settings.scriptTimeoutCapSeconds, "the agent's scriptTimeoutCapSeconds")
        }
        var missingConfig = false
        for (name, path) in configs {
            // Only the default config may be absent: a host file that names a config promises it.
            guard let config = inspector.pluginConfig(path, fromHostFile: name != nil, into: &check) else {
                missingConfig = true
                continue
            }
            let plugin = Plugin(
                name: name ?? config.pluginName, configPath: path, config: config,
                budgetSeconds: min(config.timeoutInSeconds, cap.seconds))
            if config.timeoutInSeconds > cap.seconds {
                check.warnings.append(
                    ReportedError(
                        code: .incorrectJSONConfigFile, phase: .precheck,
                        message: "\(path): timeoutInSeconds \(config.timeoutInSeconds) is capped to \(cap.seconds) s "
                            + "by \(cap.source)"))
            }
            for phase in ScriptPhase.allCases { inspector.script(of: plugin, phase: phase, into: &check) }
            check.plugins.append(plugin)
        }

        let codes = Set(check.errors.map(\.code))
        if codes.contains(.incorrectJSONConfigFile) || codes.contains(.incorrectPluginhostFile) || check.untrustedConfig
        {
            check.verdict = .configBroken
        } else if missingConfig {
            check.verdict = .notConfigured
        } else if !codes.isEmpty {
            check.verdict = .scriptsUnusable
        }
        let singleDisk = settings.snapshot.diskCount == 1
        if check.verdict == .configBroken || check.verdict == .notConfigured {
            check.policy = CyclePolicy(singleDisk: singleDisk)
        } else {
            check.policy = CyclePolicy(
                continueOnFailure: check.plugins.allSatisfy(\.config.continueBackupOnFailure),
                freezeEnabled: check.plugins.allSatisfy(\.config.fsFreezeEnabled),
                singleDisk: singleDisk)
        }
        return check
    }
}
