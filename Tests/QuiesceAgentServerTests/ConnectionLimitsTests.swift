import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// The request timeout bounds silence and slow clients, never a handler at work; the number of
/// connections is bounded too.
@Suite("Connection limits")
struct ConnectionLimitsTests {
    @Test func aPhaseLongerThanTheRequestTimeoutIsAnsweredNotCutShort() async throws {
        let server = try await ServerFixture.start { $0.server.requestTimeoutSeconds = 1 }
        defer { server.stop() }
        try server.installFramework(freeze: false, pre: "sleep 3")
        let created = try await server.send(
            "POST", AgentRoutes.sessions, body: Array(#"{"id": "slow", "leaseSeconds": 60}"#.utf8))
        #expect(created.status == 200, "\(created.text)")
        let prepared = try await server.send("POST", AgentRoutes.session("slow", .prepare))
        #expect(prepared.status == 200, "\(prepared.text)")
        let report = try prepared.json()["report"] as? [String: Any]
        #expect((report?["errors"] as? [Any])?.isEmpty ?? true, "\(prepared.text)")
        #expect(server.ranLog == ["pre slow"], "the pre-script ran once, to its end")
    }

    @Test func aRequestHeadThatTricklesInIsCutOffAtTheTimeout() async throws {
        let server = try await ServerFixture.start { $0.server.requestTimeoutSeconds = 1 }
        defer { server.stop() }
        let connection = try server.client.hold()
        defer { connection.close() }
        let head = Array("GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Padding: slowly-slowly\r\n\r\n".utf8)
        let sent = try await connection.trickle(head, every: .milliseconds(200))
        #expect(sent != nil, "the server kept a connection open for a head that took \(head.count * 200) ms")
        #expect(try await server.send("GET", AgentRoutes.health, authorized: false).status == 200)
    }

    @Test func aSilentConnectionIsClosedButAnAnsweredOneWaitsForItsNextRequest() async throws {
        let server = try await ServerFixture.start { $0.server.requestTimeoutSeconds = 1 }
        defer { server.stop() }
        let silent = try server.client.hold()
        defer { silent.close() }
        #expect(try await silent.waitForClose(within: 20))
    }

    @Test func connectionsBeyondTheMaximumAreClosedAtOnce() async throws {
        let server = try await ServerFixture.start { $0.server.maxConnections = 2 }
        defer { server.stop() }
        // Accepted side by side on several event loops: which one is refused is not ordered.
        let held = try (0..<3).map { _ in try server.client.hold() }
        defer { held.forEach { $0.close() } }
        var closed: [Int] = []
        for _ in 0..<400 where closed.isEmpty {
            closed = held.indices.filter { held[$0].closedByServer }
            if closed.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(closed.count == 1, "one of three connections is refused when two are allowed: \(closed)")
        let open = held.indices.filter { !closed.contains($0) }
        held[open[0]].close()
        var answered = false
        for _ in 0..<100 where !answered {
            answered = (try? await server.send("GET", AgentRoutes.health, authorized: false).status) == 200
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(answered, "once one closed, a new connection is served")
        #expect(!held[open[1]].closedByServer, "the other admitted connection stays open")
    }
}
