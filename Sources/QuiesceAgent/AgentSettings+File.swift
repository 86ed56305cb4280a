import QuiesceAPI
import QuiesceSystem

extension AgentSettings {
    /// Loads the settings file. With no path given, the default file is used when it exists and
    /// the built-in defaults when it does not; a path given explicitly must exist.
    public static func load(path: String?) throws(AgentError) -> AgentSettings {
        let file = path ?? defaultPath
        let facts: FileFacts
        do {
            facts = try FileFacts.read(path: file)
        } catch  where error.isNotFound && path == nil {
            return AgentSettings()
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "cannot read agent settings \(file): \(error.reason)")
        }
        // The settings name programs the agent runs as root: nobody else may be able to edit them,
        // nor swap them through a directory they own.
        let violations = PermissionRule.pluginHost.violations(of: facts, owner: CurrentProcess.effectiveUserID)
        guard violations.isEmpty else {
            throw AgentError(
                code: .invalidAgentSettings, message: "agent settings \(file): " + violations.joined(separator: "; "))
        }
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(facts.target.path)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "cannot read agent settings \(file): \(error.reason)")
        }
        return try parse(bytes, path: file)
    }
}
