import Foundation
import QuiesceAPI
import QuiesceHTTPClient
import QuiesceTestSupport
import Testing

/// The libcurl transport against simulated agents (real HTTP, real auth) and a real `serve`.
@Suite("libcurl transport")
struct CurlClientTests {
    private func get(_ url: String, authorized: Bool = true, timeout: Duration = .seconds(10)) -> HTTPClientRequest {
        HTTPClientRequest(
            method: "GET", url: url, headers: authorized ? [("Authorization", "Bearer \(SimulatedFleet.token)")] : [],
            timeout: timeout)
    }

    @Test func requestsGetRealAnswersAndReuseTheirConnection() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let client = CurlClient(maxConcurrentTransfers: 8)
        let first = try await client.send(get(fleet.url(0, AgentRoutes.version)))
        #expect(first.status == 200)
        #expect(first.newConnections == 1)
        #expect(first.headers["content-type"] == "application/json")
        let second = try await client.send(get(fleet.url(0, AgentRoutes.version)))
        #expect(second.newConnections == 0, "the second request reuses the connection")
        let unauthorized = try await client.send(get(fleet.url(1, AgentRoutes.version), authorized: false))
        #expect(unauthorized.status == 401, "an HTTP error is an answer, not a transport error")
        let config = Array(#"{"preScriptLocation": "", "postScriptLocation": ""}"#.utf8)
        let put = try await client.send(
            HTTPClientRequest(
                method: "PUT", url: fleet.url(1, AgentRoutes.pluginConfig),
                headers: [("Authorization", "Bearer \(SimulatedFleet.token)")],
                body: config))
        #expect(put.status == 200, "\(String(decoding: put.body, as: UTF8.self))")
        #expect(
            FileManager.default.contents(atPath: fleet.home(1) + "/VMSnapshotScriptPluginConfig.json") == Data(config))
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        let fleet = try await SimulatedFleet(count: 20, instantScripts: true)
        defer { fleet.stop() }
        let client = CurlClient(maxConcurrentTransfers: 16)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    (try? await client.send(get(fleet.url(index % 20, AgentRoutes.compliance))))?.status ?? -1
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 })
    }

    /// Sends `request` expecting a transport failure of `kind`.
    private func expectFailure(_ client: CurlClient, _ request: HTTPClientRequest, _ kind: TransportError.Kind) async {
        do {
            _ = try await client.send(request)
            Issue.record("expected \(kind)")
        } catch {
            #expect(error.kind == kind, "\(error)")
        }
    }

    @Test func anAnswerLongerThanTheLimitIsCutOffNotBuffered() async throws {
        let fleet = try await SimulatedFleet(count: 1, instantScripts: true)
        defer { fleet.stop() }
        var request = get(fleet.url(0, AgentRoutes.version))
        request.maxResponseBytes = 16
        await expectFailure(CurlClient(), request, .tooLarge)
        request.maxResponseBytes = 1 << 20
        #expect(try await CurlClient().send(request).status == 200, "the same answer within the limit")
    }

    @Test func aRefusedConnectionIsRefused() async throws {
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"refuseConnection": true}}}"#, instantScripts: true, ready: [1])
        defer { fleet.stop() }
        await expectFailure(CurlClient(), get(fleet.url(0, AgentRoutes.health)), .refused)
    }

    @Test func aDroppedConnectionIsDropped() async throws {
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"dropConnection": true}}}"#, instantScripts: true, ready: [1])
        defer { fleet.stop() }
        await expectFailure(CurlClient(), get(fleet.url(0, AgentRoutes.health)), .dropped)
    }

    @Test func aHangingAgentTimesOut() async throws {
        let fleet = try await SimulatedFleet(
            count: 1, faults: #"{"agents": {"0": {"hang": ["/v1/compliance"]}}}"#, instantScripts: true)
        defer { fleet.stop() }
        await expectFailure(
            CurlClient(), get(fleet.url(0, AgentRoutes.compliance), timeout: .milliseconds(500)), .timeout)
    }

    @Test func anUnknownHostDoesNotResolve() async {
        await expectFailure(
            CurlClient(), get("http://no-such-host.invalid:7710/v1/health", timeout: .seconds(5)), .resolve)
    }

    @Test func mutualTLSNeedsTheCoordinatorsCertificate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let pki = try TestPKI(in: directory)
        try directory.write("agent.token", SimulatedFleet.token + "\n", mode: 0o600)
        let port = try FreePorts.one()
        let settings = try directory.write(
            "agent.json",
            """
            {"listen": "127.0.0.1:\(port)", "requiredOwnerUid": \(geteuid()), "auth": {"tokenFile":
            "\(directory.url("agent.token"))"},
             "pluginConfigPath": "\(directory.url("config.json"))", "stateDirectory": "\(directory.url("state"))",
             "scriptRoot": "\(directory.url("scripts"))", "auditLogPath": "\(directory.url("audit.log"))",
             "tls": {"certificateFile": "\(pki.serverCertificate)", "keyFile": "\(pki.serverKey)", "clientCAFile":
             "\(pki.caCertificate)"}}
            """)
        let server = try AgentBinary.start(["serve", "--settings", settings])
        defer {
            kill(server.process.processIdentifier, SIGTERM)
            server.process.waitUntilExit()
        }
        let url = "https://127.0.0.1:\(port)\(AgentRoutes.version)"
        let trusted = CurlClient(
            tls: ClientTLS(caFile: pki.caCertificate, certificateFile: pki.clientCertificate, keyFile: pki.clientKey))
        #expect(await eventually(within: 10) { (try? await trusted.send(get(url)))?.status == 200 })
        let anonymous = CurlClient(tls: ClientTLS(caFile: pki.caCertificate))
        do {
            _ = try await anonymous.send(get(url))
            Issue.record("a client without a certificate must not get an answer")
        } catch {
            #expect(error.kind == .tls || error.kind == .dropped, "\(error)")
        }
        // A VM's own TLS files on the request win over the client's: one coordinator, many CAs.
        var own = get(url)
        own.tls = ClientTLS(caFile: pki.caCertificate, certificateFile: pki.clientCertificate, keyFile: pki.clientKey)
        #expect(try await anonymous.send(own).status == 200)
    }
}
