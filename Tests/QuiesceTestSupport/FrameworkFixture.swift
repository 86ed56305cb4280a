import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceCrypto
import QuiesceSystem

/// A plugin config, pre/post scripts and agent settings laid out in a temp dir with the modes
/// the rules demand, owned by whoever runs the tests (the settings require that uid).
public struct FrameworkFixture {
    public let directory: TemporaryDirectory
    public var settings: AgentSettings
    /// Keys written into the plugin config; change then call `writeConfig()`.
    public var config: [String: any Sendable]

    public init(pre: String = "exit 0", post: String = "exit 0", mounts: [String]? = ["/frozen/a", "/frozen/b"]) throws
    {
        directory = try TemporaryDirectory()
        settings = AgentSettings()
        settings.requiredOwnerUid = geteuid()
        settings.pluginConfigPath = directory.url("VMSnapshotScriptPluginConfig.json")
        settings.pluginHostPath = directory.url("VMSnapshotPluginHost.conf")
        settings.scriptKillGraceSeconds = 1
        settings.stateDirectory = directory.url("state")
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
    public func script(_ name: String, _ body: String) throws {
        let log = directory.url("\(name).env")
        try directory.write(
            name,
            """
            #!/bin/sh
            { env | grep '^QUIESCE_' | sort; for a in "$@"; do echo "arg=[$a]"; done; } > \(log)
            \(body)
            """, mode: 0o700)
    }

    public func writeConfig(
        to name: String = "VMSnapshotScriptPluginConfig.json", _ values: [String: any Sendable]? = nil
    ) throws {
        let data = try JSONSerialization.data(withJSONObject: values ?? config, options: [.sortedKeys])
        try directory.write(name, String(decoding: data, as: UTF8.self), mode: 0o600)
    }

    /// What a script saw: its `QUIESCE_*` variables and arguments, one per line; nil if it never ran.
    public func environment(of name: String) -> [String]? {
        (try? directory.read("\(name).env")).map { $0.split(separator: "\n").map(String.init) }
    }

    /// Runs one cycle in this process with the given freeze and snapshot effects.
    public func run(freezer: any FileSystemFreezer, provider: any SnapshotProvider) async -> CycleReport {
        await BackupCycle(
            settings: settings, freezeService: InProcessFreezeService(freezer: freezer), snapshotProvider: provider
        ).run(sessionId: "test-session")
    }

    /// Writes `settings` as the agent's JSON settings file, for driving the real binary.
    @discardableResult
    public func writeSettings(_ name: String = "agent.json") throws -> String {
        var freeze: [String: any Sendable] = [
            "timeoutSeconds": settings.freeze.timeoutSeconds, "mountsToSkip": settings.freeze.mountsToSkip,
            "includeLoopDevices": settings.freeze.includeLoopDevices,
        ]
        if let mounts = settings.freeze.mounts { freeze["mounts"] = mounts }
        var snapshot: [String: any Sendable] = [
            "provider": settings.snapshot.provider.rawValue, "timeoutSeconds": settings.snapshot.timeoutSeconds,
        ]
        if !settings.snapshot.command.isEmpty { snapshot["command"] = settings.snapshot.command }
        if let disks = settings.snapshot.diskCount { snapshot["diskCount"] = disks }
        if !settings.snapshot.btrfsSubvolumes.isEmpty {
            snapshot["btrfs"] =
                [
                    "subvolumes": settings.snapshot.btrfsSubvolumes, "directory": settings.snapshot.btrfsDirectory,
                ] as [String: any Sendable]
        }
        if !settings.snapshot.lvmVolumes.isEmpty {
            snapshot["lvm"] =
                ["volumes": settings.snapshot.lvmVolumes, "size": settings.snapshot.lvmSize] as [String: any Sendable]
        }
        var json: [String: any Sendable] = [
            "pluginConfigPath": settings.pluginConfigPath, "pluginHostPath": settings.pluginHostPath,
            "scriptTimeoutCapSeconds": settings.scriptTimeoutCapSeconds,
            "scriptKillGraceSeconds": settings.scriptKillGraceSeconds,
            "requiredOwnerUid": Int(settings.requiredOwnerUid), "stateDirectory": settings.stateDirectory,
            "freeze": freeze, "snapshot": snapshot,
        ]
        if !settings.trust.signingKeys.isEmpty {
            json["trust"] = ["signingKeys": settings.trust.signingKeys.map(\.description)]
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted])
        return try directory.write(name, String(decoding: data, as: UTF8.self), mode: 0o600)
    }

    /// Signs the plugin config and scripts with `key` as `quiesce sign` does (`FILE.sig` beside each).
    public func sign(with key: Ed25519.PrivateKey) throws {
        for (name, role) in [
            ("VMSnapshotScriptPluginConfig.json", ContentSignature.Role.pluginConfig), ("pre.sh", .script),
            ("post.sh", .script),
        ] {
            let signature = ContentSignature.sign(Array(try directory.read(name).utf8), role: role, with: key)
            try directory.write(name + ContentSignature.fileSuffix, signature.line + "\n", mode: 0o600)
        }
    }

    public func remove() { directory.remove() }
}
