import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient
import Synchronization

/// A few VMs on loopback for the demo and the consistency proof: each a real `quiesce-agent
/// serve` with its own disk (loop-mounted ext4 as root), one token, one inventory with group
/// `demo`, all under one temporary directory that `stop()` removes with every mount in it.
public final class DemoFleet: Sendable {
    public let directory: String
    /// True when the disks are loop-mounted images the agents really freeze (root only).
    public let freezes: Bool
    public let agents: [DemoAgent]
    public let inventoryPath: String
    public let scriptRoot: String
    public let copies: String

    /// `prefix` names the directory under /tmp, so tests can tell their fleets from the demo's.
    public init(count: Int, agentPath: String, name: String = "vm", prefix: String = "quiesce-demo") throws {
        freezes = geteuid() == 0
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DemoShell.Failure(description: "cannot create a directory under /tmp") }
        directory = String(cString: made)
        scriptRoot = "\(directory)/scripts"
        copies = "\(directory)/copies"
        let tokenFile = "\(directory)/agent.token"
        var started: [DemoAgent] = []
        do {
            try DemoAgent.write(tokenFile, "demo-\(UUID().uuidString)\n", mode: 0o600)
            for index in 1...count {
                let vm = "\(name)-\(index)"
                let disk = try DemoDisk(directory: "\(directory)/disks", name: vm, loopMounted: freezes)
                do {
                    started.append(
                        try DemoAgent(
                            name: vm, home: "\(directory)/\(vm)", disk: disk, copies: copies, scriptRoot: scriptRoot, agentPath: agentPath,
                            tokenFile: tokenFile))
                } catch {
                    disk.remove()
                    throw error
                }
            }
            inventoryPath = "\(directory)/fleet.json"
            let vms = started.map { #"{"name": "\#($0.name)", "address": "\#($0.address)", "groups": ["demo"], "labels": {"role": "db"}}"# }
            try DemoAgent.write(
                inventoryPath,
                #"{"defaults": {"tokenFile": "agent.token", "requestTimeoutSeconds": 10}, "groups": {"demo": {"policy": "requireAll", "deadlines": {"freezeSeconds": 10, "snapshotSeconds": 60}}}, "vms": [\#(vms.joined(separator: ", "))]}"#,
                mode: 0o600)
        } catch {
            Self.tearDown(started, directory: directory)
            throw error
        }
        agents = started
    }

    /// The disks' mount points, in VM order.
    public var disks: [String] { agents.map(\.disk.mountPoint) }

    public func inventory() throws -> FleetInventory { try FleetInventory.load(path: inventoryPath) }

    /// Waits until every agent answers.
    public func waitUntilReady(within seconds: Double = 20) async throws {
        let inventory = try inventory()
        let client = AgentClient(client: CurlClient(maxConcurrentTransfers: 8), requestTimeout: .seconds(5))
        let deadline = Date().addingTimeInterval(seconds)
        for (agent, vm) in zip(agents, inventory.vms) {
            while true {
                guard agent.isRunning else { throw DemoShell.Failure(description: "the agent of \(agent.name) exited at start: \(agent.log)") }
                if case .success = await client.get(AgentVersion.self, AgentRoutes.version, from: vm) { break }
                guard Date() < deadline else {
                    throw DemoShell.Failure(description: "the agent of \(agent.name) did not answer on \(agent.address) within \(Int(seconds)) s")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Mounts (as root) or opens each VM's copy from session `sessionId`, read-only, and returns
    /// the directories in VM order; `release()` unmounts them. Each image must pass `e2fsck -fn`.
    public func openCopies(of sessionId: String) throws -> [String] {
        try openCopies(of: agents.map { _ in sessionId })
    }

    /// The same, each VM's copy from its own session (snapshots taken one VM at a time).
    public func openCopies(of sessionIds: [String]) throws -> [String] {
        try zip(agents, sessionIds).map { agent, sessionId in
            let copy = "\(copies)/\(agent.name)-\(sessionId)"
            guard freezes else { return copy }
            try DemoShell.run(["e2fsck", "-fn", copy + ".img"])
            try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
            try DemoShell.run(["mount", "-o", "loop,ro", copy + ".img", copy])
            return copy
        }
    }

    /// Stops every agent (each thaws and finishes its session first) and removes every disk,
    /// copy mount and file. Safe to call twice and from a signal handler's thread: a second
    /// caller waits until the first is done.
    public func stop() {
        stopped.withLock { stopped in
            guard !stopped else { return }
            Self.tearDown(agents, directory: directory)
            stopped = true
        }
    }

    private let stopped = Mutex(false)

    private static func tearDown(_ agents: [DemoAgent], directory: String) {
        for agent in agents { agent.stop() }
        for agent in agents { agent.disk.remove() }
        // Copies mounted for checking.
        let mounts = (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, fields[1].hasPrefix(directory + "/") {
                _ = try? DemoShell.run(["umount", "-l", String(fields[1])])
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
