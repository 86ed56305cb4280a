import Foundation
import NIOCore
import QuiesceAPI
import QuiesceAgent
import QuiesceAgentServer
import QuiesceHTTPServer
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// Plaintext is served on loopback only, judged by the address the listener was bound to.
@Suite("Loopback binding")
struct LoopbackBindingTests {
    @Test func boundAddressesAreJudgedByTheirNumbers() throws {
        for loopback in ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"] {
            #expect(Loopback.contains(try SocketAddress(ipAddress: loopback, port: 7710)), "\(loopback)")
        }
        for other in ["10.0.0.1", "0.0.0.0", "::", "::ffff:10.0.0.1", "198.18.0.1", "fe80::1"] {
            #expect(!Loopback.contains(try SocketAddress(ipAddress: other, port: 7710)), "\(other)")
        }
    }

    @Test func localhostIsServedWhenItResolvesToLoopback() async throws {
        let server = try await ServerFixture.start { $0.server.listen = "localhost:0" }
        defer { server.stop() }
        #expect(try await server.send("GET", "/v1/health").status == 200)
    }

    @Test func aNameBoundToAnAddressOtherThanLoopbackIsRefusedWithTheAddress() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var settings = AgentSettings()
        settings.requiredOwnerUid = geteuid()
        settings.stateDirectory = directory.url("state")
        // As a `localhost` that resolves elsewhere would be bound: to an address that is not loopback.
        settings.server.listen = "0.0.0.0:0"
        settings.server.tokenFile = try directory.write("agent.token", "test-token-0123456789abcdef\n", mode: 0o600)
        settings.server.auditLogPath = directory.url("audit.log")
        var agent = try buildAgent(settings: settings, insecurePlaintext: true)
        agent.server.loopbackOnly = true
        do {
            try await agent.server.run(shutdown: GracefulShutdown())
            Issue.record("the server listened")
        } catch let error as ListenAddress.Refused {
            #expect(error.description.contains("0.0.0.0 was bound to 0.0.0.0, which"), "\(error)")
            #expect(error.description.contains("not a loopback address"))
        }
    }
}
