import NIOCore
import NIOPosix
import QuiesceAPI
import QuiesceAgent
import QuiesceAgentServer
import QuiesceHTTPServer
import QuiesceSystem

/// Many agents in one process, for the coordinator's tests and benchmarks: each the real agent
/// (`buildAgent`) on its own loopback port with its own root directory, real HTTP,
/// authentication, sessions and scripts; only the freeze and the snapshot are simulated
/// (instant, nothing frozen), and the fault plan's faults wrap the agent's handlers.
public struct FleetSimulator: Sendable {
    public var count: Int
    /// The first agent's number: this process runs agents `first..<first + count`, so a fleet
    /// larger than one process serves is split over several that share a root.
    public var first: Int
    public var basePort: Int
    public var root: String
    public var tokenFile: String
    public var faults: FaultPlan
    /// Report every script as succeeded at once instead of running it, to measure the
    /// coordinator rather than process start-up.
    public var instantScripts: Bool

    public init(
        count: Int, first: Int = 0, basePort: Int, root: String, tokenFile: String, faults: FaultPlan = FaultPlan(),
        instantScripts: Bool = false
    ) {
        self.count = count
        self.first = first
        self.basePort = basePort
        self.root = root
        self.tokenFile = tokenFile
        self.faults = faults
        self.instantScripts = instantScripts
    }

    /// Runs this process's Swift tasks on SwiftNIO's event loops instead of on a pool of their
    /// own, so a request is not handed from one thread to the other and back. A simulator serves
    /// a thousand agents on the coordinator's own machine, where every cycle it spends is the
    /// coordinator's loss; the real agent keeps the two apart, so a route blocked on its disk
    /// never stalls its connections. Call once, on the main thread, before any task starts.
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }

    /// The services to run: a server and a session keeper per agent that accepts connections.
    public func services() throws(AgentError) -> [any Service] {
        var services: [any Service] = []
        for index in first..<first + count {
            let agentFaults = faults.faults(for: index, of: first + count)
            if agentFaults.refuseConnection == true { continue }
            let settings = self.settings(for: index)
            do {
                try Directory.make(settings.server.scriptRoot, mode: 0o700)
            } catch {
                throw AgentError(
                    code: .invalidAgentSettings, message: "cannot create the simulated agent's root: \(error)")
            }
            var agent = try buildAgent(
                settings: settings, freezeService: InProcessFreezeService(freezer: SimulatedFreezer()),
                scripts: instantScripts ? InstantScripts() : ScriptRunner())
            agent.server.router = agentFaults.wrap(agent.server.router)
            services += agent.services
        }
        return services
    }

    /// Agent `index`'s settings: everything under `root/agent-<index>` but the scripts.
    public func settings(for index: Int) -> AgentSettings {
        let home = "\(root)/agent-\(index)"
        var settings = AgentSettings()
        settings.requiredOwnerUid = CurrentProcess.effectiveUserID
        settings.pluginConfigPath = "\(home)/VMSnapshotScriptPluginConfig.json"
        settings.pluginHostPath = "\(home)/VMSnapshotPluginHost.conf"
        settings.stateDirectory = "\(home)/state"
        settings.freeze.mounts = ["/simulated/agent-\(index)"]
        settings.server.listen = "127.0.0.1:\(basePort + index)"
        settings.server.tokenFile = tokenFile
        // One script directory for all, as VMs built from one image share one path: a single
        // plugin config then fits every simulated agent, as it fits a real fleet.
        settings.server.scriptRoot = "\(root)/scripts"
        settings.server.auditLogPath = "\(home)/audit.log"
        return settings
    }
}

/// Every script succeeds at once; nothing is started.
struct InstantScripts: ScriptRunning {
    func run(_ invocation: ScriptInvocation) async -> ScriptRun { .succeededInstantly() }
}

/// Freezes nothing and always succeeds.
struct SimulatedFreezer: FileSystemFreezer {
    func freeze(mount: String) throws(SystemError) {}
    func thaw(mount: String) throws(SystemError) {}
    func flush(mount: String) throws(SystemError) {}
}
