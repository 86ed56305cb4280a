import Foundation

/// `quiesce-agent simulate` started for a test: `count` agents on free loopback ports, with
/// their own files and one token, stopped by `stop()` whatever they are doing.
public struct SimulatedFleet: Sendable {
    public let directory: TemporaryDirectory
    public let base: Int
    /// The token every simulated agent accepts.
    public static let token = "simulated-fleet-token-0123456789"
    public let tokenFile: String
    private let process: AgentBinary.Started

    public struct NotReady: Error, CustomStringConvertible {
        public var description: String
    }

    /// Waits until every agent in `ready` (all by default) answers its health check: agents start
    /// side by side, so one answering says nothing of the others. With `first`, the agents are
    /// `first..<first + count` (`simulate --first`), agent i still on `base + i`.
    public init(
        count: Int, first: Int = 0, faults: String = "{}", instantScripts: Bool = false, ready: [Int]? = nil
    ) async throws {
        let directory = try TemporaryDirectory()
        self.directory = directory
        do {
            tokenFile = try directory.write("token", Self.token + "\n", mode: 0o600)
            let plan = try directory.write("faults.json", faults)
            base = try FreePorts.range(count: first + count)
            process = try AgentBinary.start(
                [
                    "simulate", "--count", "\(count)", "--first", "\(first)", "--base-port", "\(base)", "--root",
                    directory.url("fleet"), "--token-file", tokenFile, "--faults", plan,
                ] + (instantScripts ? ["--instant-scripts"] : []))
        } catch {
            directory.remove()
            throw error
        }
        for index in ready ?? Array(first..<first + count) {
            let agent = RawHTTPClient(port: base + index)
            guard await eventually(within: 15, { (try? await agent.send("GET", "/v1/health"))?.status == 200 }) else {
                stop()
                throw NotReady(description: "simulated agent \(index) did not answer within 15 s")
            }
        }
    }

    public func agent(_ index: Int) -> RawHTTPClient { RawHTTPClient(port: base + index) }

    public func url(_ index: Int, _ path: String) -> String { "http://127.0.0.1:\(base + index)\(path)" }

    /// The script directory every simulated agent shares.
    public var scriptRoot: String { directory.url("fleet/scripts") }

    /// Agent `index`'s own files.
    public func home(_ index: Int) -> String { directory.url("fleet/agent-\(index)") }

    /// Writes a fleet inventory naming agents `0..<count` as VMs `a0`, `a1`... in group `all`;
    /// `extra` adds JSON members to a VM (`"tokenFile": "wrong"`), `addresses` overrides one,
    /// `group` is the group's JSON (policy, deadlines, snapshotCommand).
    public func inventory(
        count: Int, timeoutSeconds: Int = 5, extra: [Int: String] = [:], addresses: [Int: String] = [:],
        group: String = "{}"
    ) throws -> String {
        let vms = (0..<count).map { index in
            let address = addresses[index] ?? "127.0.0.1:\(base + index)"
            return
                #"{"name": "a\#(index)", "address": "\#(address)", "groups": "#
                + #"["all"]\#(extra[index].map { ", " + $0 } ?? "")}"#
        }
        return try directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": \#(timeoutSeconds)}, "groups": {"all": "#
                + #"\#(group)}, "vms": [\#(vms.joined(separator: ","))]}"#
        )
    }

    /// Runs `quiesce` with this fleet's own history (`--state`).
    public func coordinator(_ arguments: [String]) async throws -> AgentBinary.Result {
        try await AgentBinary.run(arguments + ["--state", directory.url("state")], program: "quiesce")
    }

    /// SIGTERM, then SIGKILL if the simulator is still there after 10 s: a test must end.
    public func stop() {
        kill(process.process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while process.process.isRunning && Date() < deadline { usleep(20_000) }
        if process.process.isRunning { kill(process.process.processIdentifier, SIGKILL) }
        process.process.waitUntilExit()
        directory.remove()
    }
}
