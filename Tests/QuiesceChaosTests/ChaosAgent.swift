import Foundation
import QuiesceTestSupport

/// One VM of the chaos fleet: `quiesce-agent serve` in its own network namespace on its own
/// address with TLS, its own loop-mounted ext4 disk with a writer appending to it. The plugin
/// config and scripts are the fleet's, at one path for all, as on VMs built from one image.
final class ChaosAgent: @unchecked Sendable {
    let index: Int
    let home: String
    let namespace: String
    let address: String
    let disk: LoopImage
    let scriptLog: String
    private var process: Process?
    private var writer: Process?

    init(index: Int, fleet: String, namespace: String, pki: TestPKI, tokenFile: String) throws {
        self.index = index
        self.namespace = namespace
        home = "\(fleet)/agent-\(index)"
        address = ChaosNetwork.agentAddress(index)
        scriptLog = ChaosScripts.log(fleet: fleet, address: address)
        disk = try LoopImage(sizeMiB: 16, name: "disk\(index)")
        do {
            try FileManager.default.createDirectory(
                atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try write(
                "agent.json",
                """
                {"listen": "\(address):7710", "auth": {"tokenFile": "\(tokenFile)"}, "requiredOwnerUid": 0,
                 "tls": {"certificateFile": "\(pki.serverCertificate)", "keyFile": "\(pki.serverKey)"},
                 "pluginConfigPath": "\(fleet)/shared/azure/VMSnapshotScriptPluginConfig.json",
                 "pluginHostPath": "\(fleet)/shared/azure/VMSnapshotPluginHost.conf",
                 "stateDirectory": "\(home)/state", "scriptRoot": "\(fleet)/shared/scripts",
                 "auditLogPath": "\(home)/audit.log", "scriptKillGraceSeconds": 1,
                 "freeze": {"mounts": ["\(disk.mountPoint)"], "timeoutSeconds": 15}}
                """, mode: 0o600)
        } catch {
            disk.remove()
            throw error
        }
    }

    private func write(_ name: String, _ text: String, mode: Int) throws {
        let path = "\(home)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode_t(mode))
    }

    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts the agent in its namespace (again, after a kill).
    func start() throws {
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        agent.arguments = ["netns", "exec", namespace, AgentBinary.path, "serve", "--settings", "\(home)/agent.json"]
        _ = FileManager.default.createFile(atPath: "\(home)/agent.log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(home)/agent.log"))
        log.seekToEndOfFile()
        agent.standardError = log
        agent.standardOutput = FileHandle.nullDevice
        agent.standardInput = FileHandle.nullDevice
        try agent.run()
        process = agent
    }

    /// The agent's pid (`ip netns exec` execs it, so it is the process started).
    var pid: Int32? { process.map(\.processIdentifier) }

    /// The freeze guard holding this agent's disk, if one does right now.
    var guardPid: Int32? {
        (try? Shell.run(["pgrep", "-f", "freeze-guard .*\(disk.mountPoint)"]))
            .flatMap { Int32($0.split(separator: "\n").first ?? "") }
    }

    /// SIGKILL, as an OOM kill would.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGKILL to the agent and its guard together, as systemd's kill of the unit: the agent is
    /// stopped first so that it cannot see its guard die and thaw.
    func killWithGuard() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGSTOP)
        if let guardPid { Glibc.kill(guardPid, SIGKILL) }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM: the agent finishes what it runs and exits.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Appends a numbered line to the disk every 10 ms; blocks while the disk is frozen.
    func startWriter() throws {
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/sh")
        writer.arguments = [
            "-c", "i=0; while :; do i=$((i+1)); echo $i >> '\(disk.mountPoint)/sequence'; sleep 0.01; done",
        ]
        try writer.run()
        self.writer = writer
    }

    /// Whether the agent still has sessions in its journal: open ones, or ones a restarted agent
    /// is still finishing (it refuses new sessions meanwhile).
    var hasJournalledSessions: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(home)/state")) ?? []).contains {
            $0.hasPrefix("session-")
        }
    }

    /// Whether each session that ran a pre-script got exactly one post-script: the sessions
    /// that did not, with their counts.
    func unbalancedSessions() -> [String] {
        let lines = ((try? String(contentsOfFile: scriptLog, encoding: .utf8)) ?? "").split(separator: "\n")
        var counts: [String: (pre: Int, post: Int)] = [:]
        for line in lines {
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { continue }
            let id = String(fields[1])
            if fields[0] == "pre" { counts[id, default: (0, 0)].pre += 1 }
            if fields[0] == "post" { counts[id, default: (0, 0)].post += 1 }
        }
        return counts.filter { $0.value.pre > 0 && $0.value.post != 1 || $0.value.pre > 1 }
            .map { "\($0.key): \($0.value.pre) pre, \($0.value.post) post" }.sorted()
    }

    /// Stops everything and removes the disk (thawed first, whatever happened).
    func remove() {
        kill()
        _ = try? Shell.run(["fsfreeze", "-u", disk.mountPoint])
        if let writer, writer.isRunning {
            Glibc.kill(writer.processIdentifier, SIGKILL)
            writer.waitUntilExit()
        }
        disk.remove()
    }
}
