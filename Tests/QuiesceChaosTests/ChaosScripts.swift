import Foundation

/// The fleet's plugin config and scripts. A script knows its VM by the address it runs behind
/// (each agent's scripts run in its network namespace): it logs each run to that VM's log
/// (outside the disk) and leaves a marker the matrix waits for, then takes two seconds, as a
/// real quiesce does, so that a fault can land while it runs.
enum ChaosScripts {
    static func log(fleet: String, address: String) -> String { "\(fleet)/logs/\(address).log" }

    /// `version` tells pushed copies apart; `padding` bytes of comment make a push take a while.
    static func pre(fleet: String, version: String = "installed", padding: Int = 0) -> String {
        script(fleet: fleet, phase: "pre", marker: "prepare", logLine: "pre $QUIESCE_SESSION_ID", version, padding)
    }

    static func post(fleet: String, version: String = "installed", padding: Int = 0) -> String {
        script(
            fleet: fleet, phase: "post", marker: "finish", logLine: "post $QUIESCE_SESSION_ID $QUIESCE_PRE_RESULT",
            version, padding)
    }

    static func config(fleet: String) -> String {
        #"{"preScriptLocation": "\#(fleet)/shared/scripts/pre.sh", "#
            + #""postScriptLocation": "\#(fleet)/shared/scripts/post.sh", "timeoutInSeconds": 20}"#
    }

    private static func script(
        fleet: String, phase: String, marker: String, logLine: String, _ version: String, _ padding: Int
    ) -> String {
        """
        #!/bin/sh
        # \(version)
        me=$(ip -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
        echo "\(logLine)" >> \(log(fleet: fleet, address: "$me"))
        touch \(fleet)/markers/\(marker)-$me
        sleep 2
        # \(String(repeating: "x", count: padding))

        """
    }

    /// Installs the config and scripts under `fleet/shared` with the framework's modes.
    static func install(fleet: String) throws {
        for directory in ["shared", "shared/scripts", "shared/azure", "logs", "markers"] {
            try FileManager.default.createDirectory(
                atPath: "\(fleet)/\(directory)", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        for (name, text, mode) in [
            ("shared/scripts/pre.sh", pre(fleet: fleet), 0o700), ("shared/scripts/post.sh", post(fleet: fleet), 0o700),
            ("shared/azure/VMSnapshotScriptPluginConfig.json", config(fleet: fleet), 0o600),
        ] {
            try text.write(toFile: "\(fleet)/\(name)", atomically: true, encoding: .utf8)
            chmod("\(fleet)/\(name)", mode_t(mode))
        }
    }
}
