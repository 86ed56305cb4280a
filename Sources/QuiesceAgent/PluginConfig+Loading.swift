import FoundationEssentials
import QuiesceAPI

extension PluginConfig {
    /// Keys the original accepts and ignores; they are neither used nor warned about.
    static let ignoredKeys = ["ScriptsExecutionPollTimeSeconds", "appName"]

    /// A config that parsed, with the unknown keys it carried.
    public struct Loaded: Sendable {
        public var config: PluginConfig
        public var unknownKeys: [String]
    }

    /// Parses and type-checks a plugin config. Every problem is listed in the thrown error.
    public static func parse(_ bytes: some Collection<UInt8>, path: String) throws(AgentError) -> Loaded {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw AgentError(
                code: .incorrectJSONConfigFile,
                message: "\(path) is not valid JSON (\(AgentError.describe(error))); fix the syntax, "
                    + "for example with `python3 -m json.tool \(path)`")
        }
        var object = StrictObject(json, what: "the plugin config")
        var config = PluginConfig(
            preScriptLocation: object.string("preScriptLocation", required: true) ?? "",
            postScriptLocation: object.string("postScriptLocation", required: true) ?? "")
        if let name = object.string("pluginName") { config.pluginName = name }
        if let params = object.stringArray("preScriptParams") { config.preScriptParams = params }
        if let params = object.stringArray("postScriptParams") { config.postScriptParams = params }
        if let retries = object.integer("preScriptNoOfRetries", minimum: 0) { config.preScriptNoOfRetries = retries }
        if let retries = object.integer("postScriptNoOfRetries", minimum: 0) { config.postScriptNoOfRetries = retries }
        if let timeout = object.integer("timeoutInSeconds", minimum: 1) { config.timeoutInSeconds = timeout }
        if let flag = object.bool("continueBackupOnFailure") { config.continueBackupOnFailure = flag }
        if let flag = object.bool("fsFreezeEnabled") { config.fsFreezeEnabled = flag }
        for (key, location) in [("preScriptLocation", config.preScriptLocation), ("postScriptLocation", config.postScriptLocation)]
        where !location.isEmpty && !location.hasPrefix("/") {
            object.problem("`\(key)` must be an absolute path, found \"\(location)\"")
        }
        object.accept(ignoredKeys[0], ignoredKeys[1])
        guard object.problems.isEmpty else {
            throw AgentError(
                code: .incorrectJSONConfigFile,
                message: "\(path): " + object.problems.joined(separator: "; "))
        }
        return Loaded(config: config, unknownKeys: object.unusedKeys)
    }
}
