import Foundation
import QuiesceCoordinator
import QuiesceTestSupport

/// `quiesce serve` started for a test against a simulated fleet, with the fleet's own state.
struct CoordinatorService {
    let process: AgentBinary.Started
    let port: Int
    let store: HistoryStore

    /// Records `jobs` as last planned the minute before `once` plans its run (without it, the
    /// minute before this one), as a coordinator that stopped since would have: the next planned
    /// minute is at most a minute late and runs as soon as the service starts.
    ///
    /// The history is the fleet's state directory, or `shared` (a `--store` and the test's view
    /// of it). With `host`, the service runs in a UTS namespace of its own under that host name,
    /// as a coordinator on another machine would (root only).
    static func start(
        _ fleet: SimulatedFleet, inventory: String, catchingUp jobs: [String], once: RunOnce? = nil,
        shared: (url: String, store: HistoryStore)? = nil, host: String? = nil
    ) async throws -> CoordinatorService {
        let store = try shared?.store ?? HistoryStore(directory: fleet.directory.url("state"))
        let lastPlanned = (once ?? RunOnce()).minute.addingTimeInterval(-60)
        for job in jobs {
            try await store.recordNotRun(
                ScheduledRun(job: job, plannedAt: lastPlanned, state: .succeeded, owner: "x:1"))
        }
        let port = try FreePorts.one()
        let serve =
            ["serve", "--fleet", inventory, "--listen", "127.0.0.1:\(port)", "--state", fleet.directory.url("state")]
            + (shared.map { ["--store", $0.url] } ?? [])
        let process =
            if let host {
                try AgentBinary.start(
                    [
                        "--uts", "--", "/bin/sh", "-c", #"hostname "$0" && exec "$@""#, host,
                        AgentBinary.path(of: "quiesce"),
                    ]
                        + serve, capturingStandardError: true, program: "/usr/bin/unshare")
            } else {
                try AgentBinary.start(serve, capturingStandardError: true, program: "quiesce")
            }
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

/// A schedule whose one run in a test's time is the one caught up at the start: daily at this
/// minute. A test that counts runs or events then cannot meet a second run at a minute boundary.
struct RunOnce {
    let minute = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 60).rounded(.down) * 60)

    var schedule: String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: minute)
        return #"{"cron": "\#(parts.minute ?? 0) \#(parts.hour ?? 0) * * *", "timeZone": "UTC"}"#
    }
}
