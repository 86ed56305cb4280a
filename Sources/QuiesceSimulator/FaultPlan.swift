import FoundationEssentials
import QuiesceAPI
import QuiesceHTTPServer

/// Faults the fleet simulator injects, per agent or at random with a seed (`quiesce-agent
/// simulate --faults FILE`).
///
///     {"seed": 7,
///      "agents": {"3": {"refuseConnection": true}, "4": {"latencyMs": {"freeze": 250}, "fail": ["snapshot"]}},
///      "random": {"fraction": 0.05, "faults": {"hang": ["thaw"]}}}
///
/// Latency, failures and hangs are keyed by a session phase (`prepare`, `freeze`, `snapshot`,
/// `thaw`, `finish`) or by a route path (`/v1/compliance`).
public struct FaultPlan: Codable, Sendable, Equatable {
    public var seed: UInt64?
    public var agents: [String: AgentFaults]?
    public var random: RandomFaults?

    /// No faults.
    public init() {}

    public struct RandomFaults: Codable, Sendable, Equatable {
        /// The share of agents, 0 to 1, that get `faults`.
        public var fraction: Double
        public var faults: AgentFaults
    }

    /// The faults of agent `index` (0-based) among `count`.
    public func faults(for index: Int, of count: Int) -> AgentFaults {
        if let explicit = agents?[String(index)] { return explicit }
        guard let random else { return AgentFaults() }
        var generator = SplitMix64(seed: (seed ?? 0) &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        return Double(generator.next() % 1_000_000) / 1_000_000 < random.fraction ? random.faults : AgentFaults()
    }
}

/// What one simulated agent does wrong.
public struct AgentFaults: Codable, Sendable, Equatable {
    /// Do not listen at all: connections are refused.
    public var refuseConnection: Bool?
    /// Accept connections and close them without answering.
    public var dropConnection: Bool?
    /// Extra time before answering, per phase or path.
    public var latencyMs: [String: Int]?
    /// Answer 500 `SimulatedFault` for these phases or paths.
    public var fail: [String]?
    /// Answer 200 with a body that is not JSON (a proxy's error page) for these phases or paths.
    public var garbage: [String]?
    /// Never answer these phases or paths (until the client gives up).
    public var hang: [String]?
    /// Routes this agent does not have (its router answers 404 `NotFound`), as an agent from
    /// before they existed: `["/v1/bundle"]`.
    public var withoutRoutes: [String]?

    public init() {}

    /// The key faults use for a request: the phase for session phases, else the path.
    static func key(for path: String) -> String {
        let parts = path.split(separator: "/")
        if parts.count == 4, parts[1] == "sessions", SessionPhase(rawValue: String(parts[3])) != nil {
            return String(parts[3])
        }
        return path
    }
}

extension ErrorCode {
    public static let simulatedFault = ErrorCode(rawValue: "SimulatedFault")
}
