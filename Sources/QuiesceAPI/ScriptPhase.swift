/// Which of a plugin's two scripts: `pre` quiesces the application before the freeze, `post`
/// releases it after the thaw. Every layer names a script by it: the plugin config's keys, the
/// push route, the compliance report's file role, the cycle's phase and its error codes.
public enum ScriptPhase: String, Codable, Sendable, CaseIterable {
    case pre
    case post

    /// `preScriptLocation`, `postScriptLocation`: the config key naming the script.
    public var locationKey: String { "\(rawValue)ScriptLocation" }
    public var paramsKey: String { "\(rawValue)ScriptParams" }
    public var retriesKey: String { "\(rawValue)ScriptNoOfRetries" }

    /// `pre-script` or `post-script`, as reports print it.
    public var label: String { "\(rawValue)-script" }

    /// The cycle step that runs it.
    public var cyclePhase: CyclePhase { self == .pre ? .preScript : .postScript }

    /// Its role in a compliance report and a push.
    public var fileRole: FileCheck.Role { self == .pre ? .preScript : .postScript }

    /// The script is not configured or not there.
    public var notFound: ErrorCode { self == .pre ? .preScriptNotFound : .postScriptNotFound }
    /// It exited non-zero, died by a signal or could not be started.
    public var executionFailed: ErrorCode { self == .pre ? .preScriptExecutionFailed : .postScriptExecutionFailed }
    /// Its budget ran out.
    public var timeout: ErrorCode { self == .pre ? .preScriptTimeout : .postScriptTimeout }
    /// It breaks a permission rule.
    public var insufficientPermission: ErrorCode {
        self == .pre ? .insufficientPermissionForPreScript : .insufficientPermissionForPostScript
    }
}

extension PluginConfig {
    /// One of the config's two scripts with everything the config says about it.
    public struct Script: Sendable, Equatable {
        public var phase: ScriptPhase
        /// Absolute path; empty means not configured.
        public var location: String
        public var params: [String]
        public var retries: Int
    }

    public func script(_ phase: ScriptPhase) -> Script {
        Script(
            phase: phase, location: self[keyPath: phase.fields.location], params: self[keyPath: phase.fields.params],
            retries: self[keyPath: phase.fields.retries])
    }
}

extension ScriptPhase {
    /// Where the config keeps this script's settings; the loader writes through them too.
    var fields:
        (
            location: WritableKeyPath<PluginConfig, String>, params: WritableKeyPath<PluginConfig, [String]>,
            retries: WritableKeyPath<PluginConfig, Int>
        )
    {
        switch self {
        case .pre: (\.preScriptLocation, \.preScriptParams, \.preScriptNoOfRetries)
        case .post: (\.postScriptLocation, \.postScriptParams, \.postScriptNoOfRetries)
        }
    }
}
