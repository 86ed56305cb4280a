import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient
import QuiesceSystem
import Synchronization

/// A few VMs on loopback for the demo and the consistency proof: each a real `quiesce-agent
/// serve` with its own disk (loop-mounted ext4 as root), one token, one inventory with group
/// `demo`, all under one temporary directory that `stop()` removes with every mount in it.
///
/// Creating it makes only the directory; `start` adds the disks and agents one by one, each
/// registered as soon as it exists, so a `stop()` from a signal handler at any moment, even in
/// the middle of `start`, leaves nothing behind.
public final class DemoFleet: Sendable {
    public let directory: String
    /// True when the disks are loop-mounted images the agents really freeze (root only).
    public let freezes: Bool
    public let inventoryPath: String
    public let scriptRoot: String
    public let copies: String
    private let state = Mutex(State())

    private struct State {
        var disks: [DemoDisk] = []
        var agents: [DemoAgent] = []
        /// Stops what runs on the disks (an application), after the agents thawed them.
        var applications: [@Sendable () -> Void] = []
        var stopped = false
    }

    /// Thrown by `start` once `stop()` was called.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the demo fleet was stopped" }
    }

    /// `prefix` names the directory under /tmp, so tests can tell their fleets from the demo's.
    public init(prefix: String = "quiesce-demo") throws {
        freezes = CurrentProcess.effectiveUserID == 0
        do {
            directory = try Directory.makeTemporary(prefix: prefix)
        } catch {
            throw DemoShell.Failure(description: "cannot create a directory under /tmp: \(error.reason)")
        }
        scriptRoot = "\(directory)/scripts"
        copies = "\(directory)/copies"
        inventoryPath = "\(directory)/fleet.json"
        // Others may pass through (not list) it: a database on a demo disk runs as `postgres`.
        chmod(directory, 0o711)
        for subdirectory in [copies, "\(directory)/disks"] { try DemoShell.makeDirectory(subdirectory) }
    }

    /// A started fleet of `count` VMs; everything is removed again if starting fails.
    /// `freezeSettings` are extra keys of each agent's `freeze` settings, as JSON members.
    public convenience init(
        count: Int, agentPath: String, prefix: String = "quiesce-demo", freezeSettings: String = ""
    ) throws {
        try self.init(prefix: prefix)
        do {
            try start(names: (1...count).map { "vm-\($0)" }, agentPath: agentPath, freezeSettings: freezeSettings)
        } catch {
            stop()
            throw error
        }
    }

    /// Creates the disks (`diskMiB` each, sparse), starts the agents and writes the inventory,
    /// whose group `demo` has every VM and, if given, `verifyCommand`.
    public func start(
        names: [String], diskMiB: Int = 32, agentPath: String, verifyCommand: [String]? = nil,
        freezeSettings: String = ""
    ) throws {
        let tokenFile = "\(directory)/agent.token"
        try DemoShell.write(tokenFile, "demo-\(UUID().uuidString)\n", mode: 0o600)
        for vm in names {
            let disk = try DemoDisk(
                directory: "\(directory)/disks", name: vm, loopMounted: freezes, sizeMiB: diskMiB)
            try register { state in
                state.disks.append(disk)
            } otherwise: {
                disk.remove()
            }
            let agent = try DemoAgent(
                name: vm, home: "\(directory)/\(vm)", disk: disk, copies: copies, scriptRoot: scriptRoot,
                agentPath: agentPath, tokenFile: tokenFile, freezeSettings: freezeSettings)
            try register { state in
                state.agents.append(agent)
            } otherwise: {
                agent.stop()
            }
        }
        let vms = agents.map {
            #"{"name": "\#($0.name)", "address": "\#($0.address)", "groups": ["demo"], "#
                + #""labels": {"role": "\#($0.name)"}}"#
        }
        let verify =
            try verifyCommand.map {
                #", "verifyCommand": "# + String(decoding: try JSONEncoder().encode($0), as: UTF8.self)
            } ?? ""
        try DemoShell.write(
            inventoryPath,
            #"{"defaults": {"tokenFile": "agent.token", "requestTimeoutSeconds": 10}, "groups": {"demo": {"policy": "#
                + #""requireAll", "deadlines": {"freezeSeconds": 10, "snapshotSeconds": 60}\#(verify)}}, "vms": "#
                + #"[\#(vms.joined(separator: ", "))]}"#,
            mode: 0o600)
    }

    /// Starts what runs on the disks (an application) and has `stop()` stop it after the agents
    /// thawed and before the disks go. A `stop()` meanwhile waits for the start to end: an
    /// application half started on a disk being removed could not be found to stop.
    public func run<Application: Sendable>(
        _ start: () throws -> Application, stop: @escaping @Sendable (Application) -> Void
    ) throws -> Application {
        try state.withLock { state in
            guard !state.stopped else { throw Stopped() }
            let application = try start()
            state.applications.append { stop(application) }
            return application
        }
    }

    /// Records what was just created, or undoes it when the fleet was stopped meanwhile.
    private func register(_ add: (inout State) -> Void, otherwise undo: () -> Void) throws {
        try state.withLock { state in
            guard !state.stopped else {
                undo()
                throw Stopped()
            }
            add(&state)
        }
    }

    public var agents: [DemoAgent] { state.withLock { $0.agents } }

    /// True once `stop()` was called.
    public var isStopped: Bool { state.withLock { $0.stopped } }

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
                guard agent.isRunning else {
                    throw DemoShell.Failure(description: "the agent of \(agent.name) exited at start: \(agent.log)")
                }
                if case .success = await client.get(AgentVersion.self, AgentRoutes.version, from: vm) { break }
                guard Date() < deadline else {
                    throw DemoShell.Failure(
                        description:
                            "the agent of \(agent.name) did not answer on \(agent.address) within \(Int(seconds)) s")
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
            try DemoShell.makeDirectory(copy)
            try DemoShell.run(["mount", "-o", "loop,ro", copy + ".img", copy])
            return copy
        }
    }

    /// Stops every agent (each thaws and finishes its session first) and removes every disk,
    /// copy mount and file. Safe to call twice and from a signal handler's thread: a second
    /// caller waits until the first is done.
    public func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            Self.tearDown(state.agents, state.applications, state.disks, directory: directory)
        }
    }

    private static func tearDown(
        _ agents: [DemoAgent], _ applications: [@Sendable () -> Void], _ disks: [DemoDisk], directory: String
    ) {
        for agent in agents { agent.stop() }
        for stop in applications.reversed() { stop() }
        for disk in disks { disk.remove() }
        // Copies mounted for checking.
        let mounts = (try? FileReader.text("/proc/self/mounts")) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 1, fields[1].hasPrefix(directory + "/") {
                _ = try? DemoShell.run(["umount", "-l", String(fields[1])])
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
