import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// The script root holds what runs as root: it must be private, and a push never leaves it.
@Suite("Script root")
struct ScriptRootTests {
    private let script = Array("#!/bin/sh\nexit 0\n".utf8)

    private func pushScript(_ server: ServerFixture, config: String) async throws -> RawHTTPClient.Response {
        let put = try await server.send("PUT", AgentRoutes.pluginConfig, body: Array(config.utf8))
        #expect(put.status == 200, "\(put.text)")
        return try await server.send(
            "PUT", AgentRoutes.script(.pre), headers: [AgentRoutes.contentSHA256Header: ContentHash.sha256(of: script)],
            body: script)
    }

    @Test func aScriptRootOthersCanWriteTakesNoScript() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let root = server.settings.server.scriptRoot
        try Directory.make(root, mode: 0o700)
        chmod(root, 0o777)
        let refused = try await pushScript(
            server, config: #"{"preScriptLocation": "\#(root)/pre.sh", "postScriptLocation": "\#(root)/post.sh"}"#)
        #expect(refused.status == 403)
        let body = try refused.json()
        #expect(body["code"] as? String == "InsecureScriptRoot")
        #expect((body["message"] as? String)?.contains("chmod go-w \(root)") == true, "\(refused.text)")
        #expect(!FileManager.default.fileExists(atPath: "\(root)/pre.sh"))
    }

    @Test func aSymlinkedDirectoryInsideTheRootDoesNotLeadOutOfIt() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let root = server.settings.server.scriptRoot
        let outside = server.directory.url("outside")
        try Directory.make(root, mode: 0o700)
        try Directory.make(outside, mode: 0o700)
        try FileManager.default.createSymbolicLink(atPath: "\(root)/db", withDestinationPath: outside)
        let refused = try await pushScript(
            server, config: #"{"preScriptLocation": "\#(root)/db/pre.sh", "postScriptLocation": "\#(root)/post.sh"}"#)
        #expect(refused.status == 403, "\(refused.text)")
        #expect(try refused.json()["code"] as? String == "OutsideScriptRoot")
        #expect(!FileManager.default.fileExists(atPath: "\(outside)/pre.sh"), "nothing written outside the root")
    }
}
