import Foundation
import QuiesceSystem

/// One demo VM's `quiesce-agent serve`, a child process with its own files under `home` (plugin
/// config, state, audit log) and a snapshot command that copies its disk (the image as root,
/// the directory otherwise) into `copies`. Scripts go to a script root the demo VMs share, as
/// VMs built from one image share one path.
public final class DemoAgent: Sendable {
    public let name: String
    public let home: String
    public let port: Int
    public let disk: DemoDisk
    /// Where this VM's snapshots land: `<copies>/<name>-<session>.img` or a directory.
    public let copies: String
    private let process: ChildProcess

    public init(
        name: String, home: String, disk: DemoDisk, copies: String, scriptRoot: String, agentPath: String,
        tokenFile: String, freezeSettings: String = ""
    ) throws {
        self.name = name
        self.home = home
        self.disk = disk
        self.copies = copies
        try DemoShell.makeDirectory(home, mode: 0o700)
        let copy =
            disk.imagePath.map { "cp --sparse=always '\($0)' \"\(copies)/\(name)-$QUIESCE_SESSION_ID.img\"" }
            ?? "mkdir -p \"\(copies)/\(name)-$QUIESCE_SESSION_ID\" && cp -a '\(disk.mountPoint)/.' "
            + "\"\(copies)/\(name)-$QUIESCE_SESSION_ID/\""
        try DemoShell.write(
            "\(home)/snapshot.sh", "#!/bin/sh\nset -e\n\(copy)\necho \(name)-$QUIESCE_SESSION_ID\n", mode: 0o700)
        let mounts = disk.imagePath == nil ? "[]" : "[\"\(disk.mountPoint)\"]"
        let freezeExtras = freezeSettings.isEmpty ? "" : ", " + freezeSettings
        try DemoShell.write(
            "\(home)/agent.json",
            """
            {"listen": "127.0.0.1:0", "auth": {"tokenFile": "\(tokenFile)"}, "requiredOwnerUid":
            \(CurrentProcess.effectiveUserID),
             "pluginConfigPath": "\(home)/VMSnapshotScriptPluginConfig.json", "pluginHostPath":
             "\(home)/VMSnapshotPluginHost.conf",
             "stateDirectory": "\(home)/state", "scriptRoot": "\(scriptRoot)", "auditLogPath": "\(home)/audit.log",
             "freeze": {"mounts": \(mounts), "timeoutSeconds": 30\(freezeExtras)},
             "snapshot": {"provider": "command", "command": ["\(home)/snapshot.sh"], "timeoutSeconds": 30}}
            """, mode: 0o600)
        process = try ChildProcess.start(
            [agentPath, "serve", "--settings", "\(home)/agent.json"], stderr: .file("\(home)/agent.log"))
        port = try Self.boundPort(of: process, log: "\(home)/agent.log", name: name)
    }

    /// The port the kernel gave the agent (it listens on port 0, so no other process can take
    /// the port between choosing and binding it), read from its "listening on" line.
    private static func boundPort(of process: ChildProcess, log: String, name: String) throws -> Int {
        let deadline = Date().addingTimeInterval(20)
        let marker = "listening on 127.0.0.1:"
        while Date() < deadline {
            let text = (try? FileReader.text(log)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }),
                let port = Int(line.split(separator: marker).last?.prefix { $0.isNumber } ?? "")
            {
                return port
            }
            guard process.isRunning else {
                throw DemoShell.Failure(description: "the agent of \(name) exited at start: \(text)")
            }
            CurrentProcess.sleep(for: .milliseconds(20))
        }
        process.stop(grace: .seconds(5))
        throw DemoShell.Failure(description: "the agent of \(name) did not start listening within 20 s")
    }

    public var address: String { "127.0.0.1:\(port)" }

    /// True while the agent process runs; its log says why when it does not.
    public var isRunning: Bool { process.isRunning }

    public var log: String { (try? FileReader.text("\(home)/agent.log")) ?? "" }

    /// SIGTERM: the agent finishes any session (thaw first) and exits.
    public func stop() {
        process.stop(grace: .seconds(15))
    }
}
