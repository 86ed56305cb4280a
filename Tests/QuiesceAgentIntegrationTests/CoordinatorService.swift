import Foundation
import QuiesceCoordinator
import QuiesceTestSupport

/// `quiesce serve` started for a test against a simulated fleet, with the fleet's own state.
struct CoordinatorService {
    let process: AgentBinary.Started
    let port: Int
    let store: HistoryStore

    /// Records `jobs` as last planned two minutes ago, as a coordinator that stopped since would
    /// have: the minute since is at most a minute late and runs as soon as the service starts.
    static func start(_ fleet: SimulatedFleet, inventory: String, catchingUp jobs: [String]) throws
        -> CoordinatorService
    {
        let store = try HistoryStore(directory: fleet.directory.url("state"))
        let now = Date().timeIntervalSince1970
        let twoMinutesAgo = Date(timeIntervalSince1970: (now / 60).rounded(.down) * 60 - 60)
        for job in jobs {
            try store.recordNotRun(ScheduledRun(job: job, plannedAt: twoMinutesAgo, state: .succeeded, owner: "x:1"))
        }
        let port = try FreePorts.one()
        let process = try AgentBinary.start(
            ["serve", "--fleet", inventory, "--listen", "127.0.0.1:\(port)", "--state", fleet.directory.url("state")],
            capturingStandardError: true, program: "quiesce")
        return CoordinatorService(process: process, port: port, store: store)
    }

    var client: RawHTTPClient { RawHTTPClient(port: port) }

    /// SIGTERM, then everything it wrote on standard error.
    func stop() -> String {
        kill(process.process.processIdentifier, SIGTERM)
        process.process.waitUntilExit()
        return String(decoding: process.errors?.fileHandleForReading.readDataToEndOfFile() ?? Data(), as: UTF8.self)
    }

    var exitStatus: Int32 { process.process.terminationStatus }
}
