import QuiesceAPI

extension AgentSettings {
    /// Parses settings strictly: an unknown key or a wrong type is an error naming it.
    public static func parse(_ bytes: some Collection<UInt8>, path: String) throws(AgentError) -> AgentSettings {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw AgentError(code: .invalidAgentSettings, message: "\(path) is not valid JSON (\(AgentError.describe(error)))")
        }
        var settings = AgentSettings()
        var object = StrictObject(json, what: "the agent settings")
        if let path = object.string("pluginConfigPath") { settings.pluginConfigPath = path }
        if let path = object.string("pluginHostPath") { settings.pluginHostPath = path }
        if let cap = object.integer("scriptTimeoutCapSeconds", minimum: 1) { settings.scriptTimeoutCapSeconds = cap }
        if let grace = object.integer("scriptKillGraceSeconds", minimum: 0) { settings.scriptKillGraceSeconds = grace }
        if let uid = object.integer("requiredOwnerUid", minimum: 0) { settings.requiredOwnerUid = UInt32(clamping: uid) }
        if let directory = object.string("stateDirectory") { settings.stateDirectory = directory }
        object.object("freeze") { freeze in
            if let mounts = freeze.stringArray("mounts") {
                settings.freeze.mounts = mounts
                for mount in mounts where !mount.hasPrefix("/") {
                    freeze.problem("`freeze.mounts` entries must be absolute paths, found \"\(mount)\"")
                }
            }
            if let skip = freeze.stringArray("mountsToSkip") { settings.freeze.mountsToSkip = skip }
            if let loops = freeze.bool("includeLoopDevices") { settings.freeze.includeLoopDevices = loops }
            if let timeout = freeze.integer("timeoutSeconds", minimum: 1) { settings.freeze.timeoutSeconds = timeout }
        }
        object.object("snapshot") { snapshot in
            if let name = snapshot.string("provider") {
                if let provider = Snapshot.Provider(rawValue: name) {
                    settings.snapshot.provider = provider
                } else {
                    let known = Snapshot.Provider.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                    snapshot.problem("`snapshot.provider` must be \(known), found \"\(name)\"")
                }
            }
            if let command = snapshot.stringArray("command") { settings.snapshot.command = command }
            if let count = snapshot.integer("diskCount", minimum: 1) { settings.snapshot.diskCount = count }
            if let timeout = snapshot.integer("timeoutSeconds", minimum: 1) { settings.snapshot.timeoutSeconds = timeout }
        }
        for path in [settings.pluginConfigPath, settings.pluginHostPath, settings.stateDirectory] where !path.hasPrefix("/") {
            object.problem("paths must be absolute, found \"\(path)\"")
        }
        if settings.snapshot.provider == .command {
            if let executable = settings.snapshot.command.first {
                if !executable.hasPrefix("/") {
                    object.problem("`snapshot.command[0]` must be an absolute path (no PATH lookup as root), found \"\(executable)\"")
                }
            } else {
                object.problem("`snapshot.command` must name the program to run when `snapshot.provider` is \"command\"")
            }
        }
        let problems = object.problems + object.unusedKeys.map { "unknown key `\($0)`" }
        guard problems.isEmpty else {
            throw AgentError(code: .invalidAgentSettings, message: "\(path): " + problems.joined(separator: "; "))
        }
        return settings
    }
}
