import FoundationEssentials

extension PluginConfig {
    /// Keys the original accepts and ignores; they are neither used nor warned about.
    static let ignoredKeys = ["ScriptsExecutionPollTimeSeconds", "appName"]

    /// A config that parsed, with the unknown keys it carried.
    public struct Loaded: Sendable {
        public var config: PluginConfig
        public var unknownKeys: [String]
    }

    /// Why a plugin config cannot be used: always `IncorrectJSONConfigFile`, every problem listed.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var code: ErrorCode { .incorrectJSONConfigFile }
        public var message: String
        public var description: String { "\(code): \(message)" }
    }

    /// Parses and type-checks a plugin config. The agent and the coordinator both load with it,
    /// so a config the coordinator accepts is one every agent accepts.
    public static func parse(_ bytes: some Collection<UInt8>, path: String) throws(Invalid) -> Loaded {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw Invalid(
                message: "\(path) is not valid JSON (\(JSONValue.describe(error))); fix the syntax, "
                    + "for example with `python3 -m json.tool \(path)`")
        }
        var object = StrictObject(json, what: "the plugin config")
        var config = PluginConfig(
            preScriptLocation: object.string(ScriptPhase.pre.locationKey, required: true) ?? "",
            postScriptLocation: object.string(ScriptPhase.post.locationKey, required: true) ?? "")
        if let name = object.string("pluginName") { config.pluginName = name }
        for phase in ScriptPhase.allCases {
            if let params = object.stringArray(phase.paramsKey) { config[keyPath: phase.fields.params] = params }
        }
        for phase in ScriptPhase.allCases {
            if let retries = object.integer(phase.retriesKey, minimum: 0) {
                config[keyPath: phase.fields.retries] = retries
            }
        }
        if let timeout = object.integer("timeoutInSeconds", minimum: 1) { config.timeoutInSeconds = timeout }
        if let flag = object.bool("continueBackupOnFailure") { config.continueBackupOnFailure = flag }
        if let flag = object.bool("fsFreezeEnabled") { config.fsFreezeEnabled = flag }
        for script in ScriptPhase.allCases.map(config.script)
        where !script.location.isEmpty && !script.location.hasPrefix("/") {
            object.problem("`\(script.phase.locationKey)` must be an absolute path, found \"\(script.location)\"")
        }
        object.accept(ignoredKeys[0], ignoredKeys[1])
        guard object.problems.isEmpty else {
            throw Invalid(message: "\(path): " + object.problems.joined(separator: "; "))
        }
        return Loaded(config: config, unknownKeys: object.unusedKeys)
    }
}
