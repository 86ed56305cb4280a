import Foundation
import QuiesceTestSupport

/// The chaos matrix's fleet: `ChaosNetwork`, a test CA with one server certificate for every
/// agent address, the agents, a coordinator inventory (group `all`, requireAll, short deadlines,
/// a group snapshot command that takes two seconds) and the coordinator's runs, each in the
/// coordinator's namespace.
final class ChaosFleet: @unchecked Sendable {
    let directory: TemporaryDirectory
    let network: ChaosNetwork
    let agents: [ChaosAgent]
    let pki: TestPKI
    let markers: String
    let inventory: String
    let state: String
    private var coordinator: Process?

    init(count: Int) throws {
        directory = try TemporaryDirectory(prefix: "quiesce-chaos")
        do {
            network = try ChaosNetwork(agents: count, impaired: [0])
        } catch {
            directory.remove()
            throw error
        }
        let fleet = directory.path
        markers = "\(fleet)/markers"
        state = directory.url("state")
        inventory = directory.url("fleet.json")
        var started: [ChaosAgent] = []
        do {
            try ChaosScripts.install(fleet: fleet)
            pki = try TestPKI(in: directory, serverAddresses: (0..<count).map(ChaosNetwork.agentAddress))
            let token = try directory.write("agent.token", Self.token + "\n", mode: 0o600)
            for index in 0..<count {
                started.append(
                    try ChaosAgent(
                        index: index, fleet: fleet, namespace: network.agent(index), pki: pki, tokenFile: token))
            }
            agents = started
            try directory.write(
                "snapshot.sh",
                "#!/bin/sh\ntouch \(markers)/snapshot-started\nsleep 2\ntouch \(markers)/snapshot-done\n"
                    + "echo group-$QUIESCE_SESSION_ID\n", mode: 0o700)
            let vms = agents.map {
                #"{"name": "vm-\#($0.index)", "address": "\#($0.address):7710", "groups": ["all"]}"#
            }
            try directory.write(
                "fleet.json",
                #"{"defaults": {"tokenFile": "\#(token)", "tls": {"caFile": "\#(pki.caCertificate)"}, "#
                    + #""requestTimeoutSeconds": 10}, "groups": {"all": {"policy": "requireAll", "deadlines": "#
                    + #"{"prepareSeconds": 20, "freezeSeconds": 10, "snapshotSeconds": 15, "thawSeconds": 10, "#
                    + #""finishSeconds": 20}, "snapshotCommand": ["\#(directory.url("snapshot.sh"))"]}}, "#
                    + #""vms": [\#(vms.joined(separator: ", "))]}"#)
            for agent in agents {
                try agent.start()
                try agent.startWriter()
            }
        } catch {
            for agent in started { agent.remove() }
            network.remove()
            directory.remove()
            throw error
        }
    }

    /// Whether agent `index` answers its health check over TLS from the coordinator's host.
    func answers(_ index: Int) -> Bool {
        let status = try? Shell.run(
            network.inside(
                network.coordinator,
                [
                    "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "--cacert",
                    pki.caCertificate, "https://\(agents[index].address):7710/v1/health",
                ]))
        return status == "200"
    }

    /// Whether agent `index` answers and holds no session: its last one is over.
    func isIdle(_ index: Int) -> Bool {
        let answer = try? Shell.run(
            network.inside(
                network.coordinator,
                [
                    "curl", "-s", "--max-time", "2", "--cacert", pki.caCertificate, "-H",
                    "Authorization: Bearer \(token)", "https://\(agents[index].address):7710/v1/version",
                ]))
        guard let answer, let version = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
        else { return false }
        return version["activeSession"] == nil && version["frozen"] as? Bool == false
    }

    static let token = "chaos-token-0123456789abcdef"
    private var token: String { Self.token }

    func waitUntilEveryAgentAnswers(within seconds: Double = 20) async -> Bool {
        await eventually(within: seconds) { agents.indices.allSatisfy(answers) }
    }

    /// Starts `quiesce ARGUMENTS` in the coordinator's namespace, output to `name`.out/.err.
    func startCoordinator(_ arguments: [String], name: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments =
            ["netns", "exec", network.coordinator, AgentBinary.path(of: "quiesce")] + arguments + [
                "--fleet", inventory, "--state", state, "--json",
            ]
        _ = FileManager.default.createFile(atPath: directory.url("\(name).out"), contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory.url("\(name).out")))
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        coordinator = process
    }

    var coordinatorRunning: Bool { coordinator?.isRunning ?? false }

    func killCoordinator() {
        guard let coordinator, coordinator.isRunning else { return }
        kill(coordinator.processIdentifier, SIGKILL)
    }

    /// Waits for the coordinator to exit; its status, nil if it was still running at `seconds`.
    func coordinatorStatus(within seconds: Double) async -> Int32? {
        guard let coordinator else { return nil }
        _ = await eventually(within: seconds) { !coordinator.isRunning }
        if coordinator.isRunning {
            kill(coordinator.processIdentifier, SIGKILL)
            coordinator.waitUntilExit()
            return nil
        }
        return coordinator.terminationReason == .uncaughtSignal
            ? -coordinator.terminationStatus
            : coordinator.terminationStatus
    }

    /// One group snapshot of the whole fleet, run to its end: its exit status.
    func snapshot(name: String) async throws -> Int32? {
        try startCoordinator(["snapshot", "--group", "all"], name: name)
        return await coordinatorStatus(within: 120)
    }

    /// The newest run in the history: its id and status; nil before the first.
    func newestRun() -> (id: Int, status: String)? {
        let output = try? Shell.run(
            network.inside(
                network.coordinator,
                [AgentBinary.path(of: "quiesce"), "history", "--state", state, "--json", "--limit", "1"]))
        let runs = output.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        guard let run = (runs?["runs"] as? [[String: Any]])?.first, let id = run["id"] as? Int else { return nil }
        return (id, run["status"] as? String ?? "")
    }

    /// The JSON report the coordinator run named `name` printed, if it got that far.
    func printedReport(of name: String) -> [String: Any]? {
        FileManager.default.contents(atPath: directory.url("\(name).out"))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    func clearMarkers() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: markers)) ?? [] {
            try? FileManager.default.removeItem(atPath: "\(markers)/\(name)")
        }
    }

    func marker(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "\(markers)/\(name)") }

    func remove() {
        killCoordinator()
        for agent in agents { agent.remove() }
        network.remove()
        directory.remove()
    }
}
