/// One plugin's `VMSnapshotScriptPluginConfig.json`: a pre/post script pair and how to run it.
public struct PluginConfig: Sendable, Equatable {
    public var pluginName: String = "ScriptRunner"
    /// Absolute path of the pre-script; empty means not configured (`Pre-ScriptNotFound`).
    public var preScriptLocation: String
    public var postScriptLocation: String
    public var preScriptParams: [String] = []
    public var postScriptParams: [String] = []
    public var preScriptNoOfRetries: Int = 0
    public var postScriptNoOfRetries: Int = 0
    /// The budget of each script for all its tries, before any cap applies.
    public var timeoutInSeconds: Int = 30
    public var continueBackupOnFailure: Bool = true
    public var fsFreezeEnabled: Bool = true

    public init(preScriptLocation: String, postScriptLocation: String) {
        self.preScriptLocation = preScriptLocation
        self.postScriptLocation = postScriptLocation
    }
}
