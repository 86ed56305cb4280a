import ArgumentParser
import Foundation
import NIOHTTP1
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient
import QuiesceHTTPServer
import QuiesceSystem

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the coordinator as a service: scheduled group snapshots and sweeps, a dashboard, /metrics.",
        discussion: """
            Takes each group's snapshot at the times its `schedule` plans and sweeps the fleet on \
            `sweepSchedule` (fleet.example.json), one run of a job at a time, every planned run recorded \
            in the history with its outcome: succeeded, failed, skipped (the previous run still going), \
            missed (no coordinator running; the latest is still run if at most an hour late) or \
            interrupted. Failed and downgraded snapshots, VMs turning non-compliant, drifting or \
            unreachable, and recoveries are events, kept in the store and POSTed as JSON to the inventory's \
            `webhooks` (retried with back-off, each attempt recorded). `quiesce history` and `show` read the \
            same store. Serves the dashboard at / (the fleet, each group, VM and run: plain HTML, no \
            script), GET /metrics (Prometheus text) and GET /v1/health. On loopback it is open to the \
            machine's users; beyond loopback it needs TLS (--tls-cert, --tls-key) and --token-file (Bearer, or \
            HTTP Basic with the token as the password, as a browser asks) or --client-ca (mutual TLS). SIGTERM \
            or SIGINT: no run starts any more, a running one finishes (thaw, post-scripts), then it exits 0.
            """
    )

    @Option(help: "The fleet inventory (see fleet.example.json).")
    var fleet = "fleet.json"

    @Option(help: "Where the dashboard, /metrics and /v1/health answer: host:port.")
    var listen = "127.0.0.1:7720"

    @Option(help: "A file with the token that callers give (Bearer, or as the password of HTTP Basic).")
    var tokenFile: String?

    @Option(help: "The TLS certificate chain to serve (PEM).")
    var tlsCert: String?

    @Option(help: "The TLS certificate's private key (PEM).")
    var tlsKey: String?

    @Option(help: "Require a client certificate from this CA (mutual TLS).")
    var clientCa: String?

    @Option(help: "At most this many requests to agents in flight at once.")
    var maxConcurrent = 256

    @OptionGroup var state: HistoryOptions

    func run() async throws {
        let inventory: FleetInventory
        let address: ListenAddress
        do {
            inventory = try FleetInventory.load(path: fleet)
            address = try ListenAddress.parse(listen, what: "--listen")
        } catch {
            throw UnusableInput(description: "quiesce serve: \(error)")
        }
        let credentials = try ServeCredentials.load(
            .init(
                listen: address, tokenFile: tokenFile, certificateFile: tlsCert, keyFile: tlsKey, clientCAFile: clientCa
            ))
        let store = try await state.history()
        let fleetPath = URL(fileURLWithPath: fleet).standardizedFileURL.path
        let largestGroup = inventory.groups.keys.map { name in inventory.vms.filter { $0.groups.contains(name) }.count }
        let agents = AgentClient(for: inventory, maxConcurrent: max(maxConcurrent, largestGroup.max() ?? 0))
        let log: @Sendable (String) -> Void = { line in CurrentProcess.writeToStandardError("quiesce serve: \(line)\n")
        }
        let events = EventPublisher(
            store: store, webhooks: inventory.webhooks, client: CurlClient(maxConcurrentTransfers: 16), log: log)
        let jobs = ServiceJobs.make(inventory, fleetPath: fleetPath, store: store, agents: agents, events: events)
        let scheduler = Scheduler(jobs: jobs, store: store, log: log)
        var server = HTTPServer(
            name: "quiesce serve", address: address,
            router: Self.routes(
                store: store, inventory: inventory,
                dashboard: Dashboard(store: store, inventory: inventory, fleetPath: fleetPath)),
            credentials: credentials,
            limits: HTTPServer.Limits(maxConnections: 64, maxConcurrentRequests: 16, requestTimeoutSeconds: 10))
        // Open credentials are for loopback callers only: a name that resolves elsewhere is refused.
        server.loopbackOnly = credentials.isOpen
        let planned =
            jobs.isEmpty
            ? "nothing is scheduled: give a group a `schedule`, or the inventory a `sweepSchedule`"
            : jobs.map { "\($0.name) at \($0.schedule)" }.joined(separator: ", ")
        server.onListening = { port in
            CurrentProcess.writeToStandardError(
                "quiesce serve: listening on \(address.host):\(port), history at \(store.location); \(planned)\n")
        }
        do {
            // The scheduler stops first and lets a running group snapshot finish (its events are
            // stored); then the deliveries (what is pending goes at the next start); the server last.
            try await ServiceRunner(services: [server, events, scheduler]).run()
        } catch let error as ListenAddress.Refused {
            throw UnusableInput(description: "quiesce serve: \(error)")
        }
    }

    private static func routes(store: HistoryStore, inventory: FleetInventory, dashboard: Dashboard) -> Router {
        Router(routes: [
            Route(.GET, "/") { request in
                try await page { () async throws(HistoryError) in try await dashboard.fleet(query: request.query) }
            },
            Route(.GET, "/groups/:name") { request in
                try await page { () async throws(HistoryError) in
                    try await dashboard.group(request.parameters["name"] ?? "")
                }
            },
            Route(.GET, "/vms/:name") { request in
                try await page { () async throws(HistoryError) in
                    try await dashboard.vm(request.parameters["name"] ?? "")
                }
            },
            Route(.GET, "/runs/:id") { request in
                try await page { () async throws(HistoryError) in
                    try await dashboard.run(request.parameters["id"] ?? "")
                }
            },
            Route(.GET, "/runs/:id/report.json") { request in
                try await fromHistory { () async throws(HistoryError) in
                    let (json, found) = try await dashboard.report(request.parameters["id"] ?? "")
                    return HTTPResponse(
                        status: found ? .ok : .notFound, contentType: "application/json", body: Array(json.utf8))
                }
            },
            Route(.GET, "/v1/health", requiresAuthentication: false) { _ in
                HTTPResponse(contentType: "application/json", body: Array(#"{"status":"ok"}"#.utf8))
            },
            Route(.GET, "/metrics") { _ in
                try await fromHistory { () async throws(HistoryError) in
                    let text = try await FleetMetrics.render(store: store, inventory: inventory)
                    return HTTPResponse(contentType: "text/plain; version=0.0.4", body: Array(text.utf8))
                }
            },
        ])
    }
}

/// A response read from the history store; a store that cannot be read is a 500 naming it.
private func fromHistory(_ answer: () async throws(HistoryError) -> HTTPResponse) async throws -> HTTPResponse {
    do {
        return try await answer()
    } catch {
        throw HTTPError(.internalServerError, .internalError, "cannot read the history: \(error)")
    }
}

/// A dashboard page as a response.
private func page(_ render: () async throws(HistoryError) -> Dashboard.Page) async throws -> HTTPResponse {
    try await fromHistory { () async throws(HistoryError) in
        let page = try await render()
        return HTTPResponse(
            status: HTTPResponseStatus(statusCode: page.status), contentType: "text/html; charset=utf-8",
            body: Array(page.html.utf8))
    }
}
