import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport

/// A plugin config, pre/post scripts and agent settings laid out in a temp dir with the modes
/// the rules demand, owned by whoever runs the tests (the settings require that uid).
struct FrameworkFixture {
    let directory: TemporaryDirectory
    var settings: AgentSettings
    /// Keys written into the plugin config; change then call `writeConfig()`.
    var config: [String: any Sendable]

    init(pre: String = "exit 0", post: String = "exit 0", mounts: [String]? = ["/frozen/a", "/frozen/b"]) throws {
        directory = try TemporaryDirectory()
        settings = AgentSettings()
        settings.requiredOwnerUid = geteuid()
        settings.pluginConfigPath = directory.url("VMSnapshotScriptPluginConfig.json")
        settings.pluginHostPath = directory.url("VMSnapshotPluginHost.conf")
        settings.scriptKillGraceSeconds = 1
        settings.freeze.mounts = mounts
        config = [
            "pluginName": "ScriptRunner",
            "preScriptLocation": directory.url("pre.sh"),
            "postScriptLocation": directory.url("post.sh"),
            "preScriptParams": ["", ""],
            "postScriptParams": ["", ""],
            "preScriptNoOfRetries": 0,
            "postScriptNoOfRetries": 0,
            "timeoutInSeconds": 30,
            "continueBackupOnFailure": true,
            "fsFreezeEnabled": true,
        ]
        try script("pre.sh", pre)
        try script("post.sh", post)
        try writeConfig()
    }

    /// Writes a script that logs its `QUIESCE_*` environment and arguments to `NAME.env`, then
    /// runs `body`.
    func script(_ name: String, _ body: String) throws {
        let log = directory.url("\(name).env")
        try directory.write(
            name,
            """
            #!/bin/sh
            { env | grep '^QUIESCE_' | sort; for a in "$@"; do echo "arg=[$a]"; done; } > \(log)
            \(body)
            """, mode: 0o700)
    }

    func writeConfig(to name: String = "VMSnapshotScriptPluginConfig.json", _ values: [String: any Sendable]? = nil) throws {
        let data = try JSONSerialization.data(withJSONObject: values ?? config, options: [.sortedKeys])
        try directory.write(name, String(decoding: data, as: UTF8.self), mode: 0o600)
    }

    /// What a script saw: its `QUIESCE_*` variables and arguments, one per line; nil if it never ran.
    func environment(of name: String) -> [String]? {
        (try? directory.read("\(name).env")).map { $0.split(separator: "\n").map(String.init) }
    }

    func run(freezer: any FileSystemFreezer = RecordingFreezer(), provider: (any SnapshotProvider)? = nil) async
        -> CycleReport
    {
        await BackupCycle(settings: settings, freezer: freezer, snapshotProvider: provider ?? RecordingProvider())
            .run(sessionId: "test-session")
    }

    func remove() { directory.remove() }
}
