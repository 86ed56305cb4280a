import Foundation
import NIOHTTP1
import NIOSSL
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPServer
import QuiesceSystem
import QuiesceTestSupport
import Synchronization
import Testing

/// `quiesce serve`'s events reach webhooks: kept first, POSTed as JSON with the token, retried
/// after a failed attempt, given up (and recorded so) when a webhook never answers.
@Suite("quiesce serve webhooks")
struct WebhookTests {
    /// What a webhook got, per event id.
    final class Deliveries: Sendable {
        struct Entry: Sendable {
            var attempts = 0
            var kind: String?
            var authorization: String?
        }

        private let entries = Mutex<[String: Entry]>([:])

        /// Counts an attempt at event `id`; from the second on, keeps what came. Returns the count.
        func attempt(_ id: String, kind: String?, authorization: String?) -> Int {
            entries.withLock { entries in
                var entry = entries[id] ?? Entry()
                entry.attempts += 1
                if entry.attempts > 1 { (entry.kind, entry.authorization) = (kind, authorization) }
                entries[id] = entry
                return entry.attempts
            }
        }

        var all: [Entry] { entries.withLock { Array($0.values) } }
    }

    /// A webhook on loopback that fails each event's first delivery with 500, then takes it.
    final class Receiver: Sendable {
        let deliveries = Deliveries()
        private let shutdown = GracefulShutdown()
        let port: Int

        init() async throws {
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            let deliveries = deliveries
            var server = HTTPServer(
                name: "webhook", address: ListenAddress(host: "127.0.0.1", port: 0),
                router: Router(routes: [
                    Route(.POST, "/hook", bodyLimit: 1 << 20, requiresAuthentication: false) { request in
                        let event = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
                        let attempts = deliveries.attempt(
                            event?["id"] as? String ?? "?", kind: event?["kind"] as? String,
                            authorization: request.headers.first(name: "Authorization"))
                        return HTTPResponse(
                            status: attempts == 1 ? .internalServerError : .ok, contentType: "text/plain",
                            body: Array("ok".utf8))
                    }
                ]),
                credentials: Anyone(),
                limits: .init(maxConnections: 16, maxConcurrentRequests: 16, requestTimeoutSeconds: 5))
            server.onListening = { port in
                continuation.yield(port)
                continuation.finish()
            }
            let running = server
            let shutdown = shutdown
            Task { try await running.run(shutdown: shutdown) }
            var iterator = ports.makeAsyncIterator()
            port = try #require(await iterator.next())
        }

        func stop() { shutdown.trigger() }
    }

    struct Anyone: ServerCredentials {
        var tls: NIOSSLContext? { nil }
        func accepts(authorization: String?) -> Bool { true }
    }

    @Test func eventsAreKeptDeliveredWithRetriesAndGivenUpWhenNobodyAnswers() async throws {
        let receiver = try await Receiver()
        defer { receiver.stop() }
        // No plugin config on any agent: every VM is non-compliant and the group cannot snapshot.
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let once = RunOnce()
        let daily = once.schedule
        let inventory = try fleet.inventory(count: 2, group: #"{"schedule": \#(daily)}"#)
        let token = try fleet.directory.write("hook.token", "hook-token-0123456789\n", mode: 0o600)
        let hooks = """
            "webhooks": [
              {"url": "http://127.0.0.1:\(receiver.port)/hook", "tokenFile": "\(token)", "firstRetrySeconds": 1},
              {"url": "http://127.0.0.1:1/nobody", "kinds": ["snapshotFailed"], "maxAttempts": 2,
               "firstRetrySeconds": 1}],
            """
        let text = try String(contentsOfFile: inventory, encoding: .utf8)
        try text.replacingOccurrences(of: #"{"defaults""#, with: #"{"sweepSchedule": \#(daily), \#(hooks) "defaults""#)
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let service = try await CoordinatorService.start(
            fleet, inventory: inventory, catchingUp: ["snapshot/all", "sweep"], once: once)
        let store = service.store
        let client = service.client
        var metrics = ""
        let settled = await eventually(within: 30) {
            metrics = (try? await client.send("GET", "/metrics"))?.text ?? ""
            return metrics.contains(#"quiesce_webhook_deliveries{state="delivered"} 3"#)
                && metrics.contains(#"quiesce_webhook_deliveries{state="failed"} 1"#)
        }
        let log = service.stop()
        #expect(settled, "\(metrics)\n\(log)")
        #expect(metrics.contains(#"quiesce_events_total{kind="vmNonCompliant"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"quiesce_events_total{kind="snapshotFailed"} 1"#), "\(metrics)")

        let delivered = receiver.deliveries.all
        #expect(Set(delivered.compactMap(\.kind)) == ["vmNonCompliant", "snapshotFailed"], "\(delivered)")
        #expect(delivered.count == 3 && delivered.allSatisfy { $0.attempts == 2 }, "one 500, then taken: \(delivered)")
        #expect(delivered.allSatisfy { $0.authorization == "Bearer hook-token-0123456789" })
        let failed = try #require(try await store.events().first { $0.kind == .snapshotFailed })
        #expect(failed.group == "all" && failed.runId != nil)
        let nobody = try #require(try await store.deliveries(of: failed.id).first { $0.webhook.hasSuffix("/nobody") })
        #expect(nobody.state == .failed && nobody.attempts == 2 && nobody.lastError != nil, "\(nobody)")
        #expect(log.contains("gave up delivering event"), "\(log)")

        // The CLI reads the same: each event with each webhook's delivery.
        let listed = try await fleet.coordinator(["events"])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(listed.stdout.contains("snapshotFailed  group all: snapshot failed"), "\(listed.stdout)")
        #expect(listed.stdout.contains("/hook: delivered after 2 attempts"), "\(listed.stdout)")
        #expect(listed.stdout.contains("/nobody: FAILED after 2 attempts: "), "\(listed.stdout)")
        let json = try await fleet.coordinator(["events", "--json"]).json()
        let entries = try #require(json["events"] as? [[String: Any]])
        #expect(entries.count == 3)
        #expect(entries.allSatisfy { ($0["deliveries"] as? [Any])?.isEmpty == false })
    }

    @Test func aBadWebhookIsRefusedNamingIt() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 1)
        for (hooks, expected) in [
            (#""webhooks": [{"url": "ftp://x/hook"}],"#, "`webhooks[0].url` must be an http:// or https:// URL"),
            (#""webhooks": [{"url": "http://x/hook", "kinds": ["snapshotLost"]}],"#, "names \"snapshotLost\""),
            (#""webhooks": [{"url": "http://x/hook", "maxAttempts": 0}],"#, "maxAttempts"),
        ] {
            let text = try String(contentsOfFile: inventory, encoding: .utf8)
            let broken = try fleet.directory.write(
                "broken.json", text.replacingOccurrences(of: #"{"defaults""#, with: "{\(hooks) \"defaults\""))
            let result = try await fleet.coordinator(["serve", "--fleet", broken])
            #expect(result.status == 2, "\(hooks): \(result.stderr)")
            #expect(result.stderr.contains(expected), "\(hooks): \(result.stderr)")
        }
    }
}
