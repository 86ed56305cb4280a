import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// Live requests against a real server on 127.0.0.1: every route's success and error paths.
@Suite("Agent HTTP API")
struct AgentAPITests {
    @Test func healthIsOpenAndSaysLittle() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let response = try await server.send("GET", AgentRoutes.health, authorized: false)
        #expect(response.status == 200)
        #expect(try response.json().keys.sorted() == ["frozen", "name", "version"])
    }

    @Test func everythingElseNeedsTheTokenAndA401RevealsNothing() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let missing = try await server.send("GET", AgentRoutes.version, authorized: false)
        let wrong = try await server.client.send("GET", AgentRoutes.version, token: "test-token-0123456789abcdeX")
        let nonexistent = try await server.send("GET", "/v1/secrets", authorized: false)
        let shorter = try await server.client.send("GET", AgentRoutes.version, token: "test-token")
        for response in [missing, wrong, nonexistent, shorter] {
            #expect(response.status == 401)
            #expect(response.text == missing.text, "the same answer whether or not the route exists")
            #expect(response.headers["www-authenticate"] == "Bearer")
        }
        let version = try await server.send("GET", AgentRoutes.version)
        #expect(version.status == 200)
        #expect(try version.json()["version"] as? String == QuiesceVersion.current)
    }

    @Test func unknownRoutesAndMethodsAreNamed() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let notFound = try await server.send("GET", "/v1/nothing-here")
        #expect(notFound.status == 404)
        #expect(try notFound.json()["code"] as? String == "NotFound")
        let method = try await server.send("DELETE", AgentRoutes.pluginConfig)
        #expect(method.status == 405)
        #expect(try (method.json()["message"] as? String)?.contains("GET, PUT") == true)
    }

    @Test func anInvalidConfigIs422WithEveryProblemAndTheOldFileStays() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        #expect(try await server.send("GET", AgentRoutes.pluginConfig).status == 404)
        let good = server.config()
        let put = try await server.send("PUT", AgentRoutes.pluginConfig, body: good)
        #expect(put.status == 200, "\(put.text)")
        #expect(try put.json()["changed"] as? Bool == true)
        let bad = try await server.send(
            "PUT", AgentRoutes.pluginConfig, body: Array(#"{"preScriptLocation": "/x", "timeoutInSeconds": "30"}"#.utf8)
        )
        #expect(bad.status == 422)
        let error = try bad.json()
        #expect(error["code"] as? String == "IncorrectJSONConfigFile")
        let details = (error["details"] as? [String])?.joined() ?? ""
        #expect(
            details.contains("`timeoutInSeconds` must be an integer")
                && details.contains("`postScriptLocation` is missing"))
        #expect(try FileReader.read(server.settings.pluginConfigPath) == good, "the old config is untouched")
        let garbage = try await server.send("PUT", AgentRoutes.pluginConfig, body: Array("{not json".utf8))
        #expect(garbage.status == 422)
        #expect(try FileReader.read(server.settings.pluginConfigPath) == good)
        let read = try await server.send("GET", AgentRoutes.pluginConfig)
        #expect(read.body == good)
    }

    @Test func aConfigIsWrittenPrivatelyAndARetryChangesNothing() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        _ = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())
        let facts = try FileFacts.read(path: server.settings.pluginConfigPath)
        #expect(facts.target.permissions == 0o600)
        #expect(facts.target.ownerUid == geteuid())
        let retry = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())
        #expect(try retry.json()["changed"] as? Bool == false)
        let names = try FileManager.default.contentsOfDirectory(atPath: server.directory.url("azure"))
        #expect(names == ["VMSnapshotScriptPluginConfig.json"], "no temp file is left behind")
    }

    @Test func scriptsAreCheckedByHashAndWrittenUnderTheRootOnly() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let script = Array("#!/bin/sh\necho quiesced\n".utf8)
        let digest = ContentHash.sha256(of: script)
        let noConfig = try await server.send(
            "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: digest], body: script)
        #expect(noConfig.status == 422, "a script needs a config that names it")
        _ = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())

        let missingHash = try await server.send("PUT", AgentRoutes.script(.pre), body: script)
        #expect(missingHash.status == 400)
        let mismatch = try await server.send(
            "PUT", AgentRoutes.script(.pre),
            headers: [AgentRoutes.contentSHA256Header: ContentHash.sha256(of: Array("other".utf8))],
            body: script)
        #expect(mismatch.status == 422)
        #expect(try mismatch.json()["code"] as? String == "HashMismatch")
        #expect(!FileManager.default.fileExists(atPath: server.directory.url("scripts/pre.sh")))

        let written = try await server.send(
            "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: digest], body: script)
        #expect(written.status == 200, "\(written.text)")
        #expect(try written.json()["sha256"] as? String == digest)
        let facts = try FileFacts.read(path: server.directory.url("scripts/pre.sh"))
        #expect(facts.target.permissions == 0o700)
        #expect(try FileReader.read(facts.target.path) == script)

        let compliance = try await server.send("GET", AgentRoutes.compliance)
        let files = try #require(try compliance.json()["files"] as? [[String: Any]])
        #expect(files.first { $0["role"] as? String == "preScript" }?["sha256"] as? String == digest)
        let agent = try #require(try compliance.json()["agent"] as? [String: Any], "a sweep needs no second request")
        #expect(agent["version"] as? String == QuiesceVersion.current)

        // A config pointing outside the root: the push of its script is refused, nothing written.
        let outside = Array(#"{"preScriptLocation": "/tmp/evil.sh", "postScriptLocation": "/tmp/evil2.sh"}"#.utf8)
        #expect(try await server.send("PUT", AgentRoutes.pluginConfig, body: outside).status == 200)
        let refused = try await server.send(
            "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: digest], body: script)
        #expect(refused.status == 403)
        #expect(try refused.json()["code"] as? String == "OutsideScriptRoot")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.sh"))
        let root = server.settings.server.scriptRoot
        let traversal = Array("{\"preScriptLocation\": \"\(root)/../escape.sh\", \"postScriptLocation\": \"/x\"}".utf8)
        #expect(try await server.send("PUT", AgentRoutes.pluginConfig, body: traversal).status == 200)
        #expect(
            try await server.send(
                "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: digest], body: script
            ).status == 403)
    }

    @Test func aSymlinkPlantedAtTheTargetIsReplacedNotFollowed() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        _ = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())
        let victim = try server.directory.write("victim.txt", "precious\n")
        try FileManager.default.createDirectory(
            atPath: server.directory.url("scripts"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: server.directory.url("scripts/pre.sh"), withDestinationPath: victim)
        let script = Array("#!/bin/sh\n".utf8)
        let response = try await server.send(
            "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: ContentHash.sha256(of: script)],
            body: script)
        #expect(response.status == 200)
        #expect(try server.directory.read("victim.txt") == "precious\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: server.directory.url("scripts/pre.sh"))
        #expect(attributes[.type] as? FileAttributeType == .typeRegular)
    }

    @Test func oversizedBodiesAre413WhetherAnnouncedOrStreamed() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let big = [UInt8](repeating: UInt8(ascii: " "), count: 5000)
        let announced = try await server.send("PUT", AgentRoutes.pluginConfig, body: big)
        #expect(announced.status == 413)
        #expect(try announced.json()["code"] as? String == "BodyTooLarge")
        // Chunked: no length up front, so the limit applies as the bytes arrive.
        let chunk = Array("1388\r\n".utf8) + big + Array("\r\n0\r\n\r\n".utf8)
        let streamed = try await server.send(
            "PUT", AgentRoutes.pluginConfig, headers: ["Transfer-Encoding": "chunked"], body: chunk)
        #expect(streamed.status == 413)
        #expect(!FileManager.default.fileExists(atPath: server.settings.pluginConfigPath))
    }

    @Test func expectContinueIsAnsweredSoUploadsDoNotWait() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let response = try await server.send(
            "PUT", AgentRoutes.pluginConfig, headers: ["Expect": "100-continue"], body: server.config())
        #expect(response.interim == [100])
        #expect(response.status == 200)
        // No 100 for a request that will be refused: its body is never wanted.
        let refused = try await server.send(
            "PUT", AgentRoutes.pluginConfig, authorized: false, headers: ["Expect": "100-continue"],
            body: server.config())
        #expect(refused.interim.isEmpty && refused.status == 401)
    }

    @Test func everyMutatingRequestIsAuditedWithTheBodysHash() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let config = server.config()
        _ = try await server.send("PUT", AgentRoutes.pluginConfig, body: config)
        _ = try await server.send("PUT", AgentRoutes.pluginConfig, authorized: false, body: config)
        _ = try await server.send("GET", AgentRoutes.version)
        let path = server.settings.server.auditLogPath
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "reads are not audited")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["method"] as? String == "PUT" && first["path"] as? String == AgentRoutes.pluginConfig)
        #expect(first["status"] as? Int == 200)
        #expect(first["bodySHA256"] as? String == ContentHash.sha256(of: config))
        #expect((first["peer"] as? String)?.contains("127.0.0.1") == true)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["status"] as? Int == 401)
        #expect(try FileFacts.read(path: path).target.permissions == 0o600)
    }

    @Test func metricsCountRequestsByStatus() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        _ = try await server.send("GET", AgentRoutes.version, authorized: false)
        _ = try await server.send("GET", AgentRoutes.health)
        let metrics = try await server.send("GET", AgentRoutes.metrics)
        #expect(metrics.text.contains("quiesce_agent_http_requests_total{status=\"401\"} 1"))
        #expect(metrics.text.contains("quiesce_agent_http_requests_total{status=\"200\"} 1"))
    }
}
