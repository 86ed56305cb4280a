import ArgumentParser
import QuiesceAgent
import QuiesceSystem

/// The options every subcommand shares: where the settings are, what to override, how to print.
struct SettingsOptions: ParsableArguments {
    @Option(help: "Agent settings file (default \(AgentSettings.defaultPath), built-in defaults if absent).")
    var settings: String?

    @Option(help: "Plugin config to use instead of the settings' pluginConfigPath.")
    var pluginConfig: String?

    @Option(help: "Plugin host file to use instead of the settings' pluginHostPath.")
    var pluginHost: String?

    @Flag(help: "Print one JSON object on standard output instead of the readable report.")
    var json = false

    /// The settings with the command-line overrides applied; exits 2 when they are unusable.
    func load() throws -> AgentSettings {
        do {
            var loaded = try AgentSettings.load(path: settings)
            if let pluginConfig { loaded.pluginConfigPath = CurrentProcess.absolute(pluginConfig) }
            if let pluginHost { loaded.pluginHostPath = CurrentProcess.absolute(pluginHost) }
            return loaded
        } catch {
            CurrentProcess.writeToStandardError("quiesce-agent: \(error.message)\n")
            throw ExitCode(2)
        }
    }
}
