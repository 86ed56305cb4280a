import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport
import Testing

/// `PUT /v1/bundle`: the config and its scripts checked together, then written scripts first.
@Suite("Bundle route")
struct BundleRouteTests {
    private func file(_ text: String, signature: String? = nil) -> BundleUpload.File {
        let bytes = Array(text.utf8)
        return BundleUpload.File(bytes: bytes, sha256: ContentHash.sha256(of: bytes), signature: signature)
    }

    private func body(_ upload: BundleUpload) throws -> [UInt8] { try QuiesceJSON.encode(upload) }

    @Test func aBundleIsWrittenScriptsFirstAndReportedFileByFile() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let upload = BundleUpload(
            pluginConfig: file(String(decoding: server.config(), as: UTF8.self)),
            preScript: file("#!/bin/sh\necho pre\n"),
            postScript: file("#!/bin/sh\necho post\n"))
        let answer = try await server.send("PUT", AgentRoutes.bundle, body: try body(upload))
        #expect(answer.status == 200, "\(answer.text)")
        let written = try QuiesceJSON.decode(BundleWritten.self, from: answer.body)
        #expect(written.files.map(\.role) == [.preScript, .postScript, .pluginConfig])
        #expect(written.files.allSatisfy { $0.result.changed })
        let pre = try FileFacts.read(path: server.directory.url("scripts/pre.sh"))
        #expect(pre.target.permissions == 0o700)
        #expect(try FileReader.read(server.settings.pluginConfigPath) == server.config())

        let again = try await server.send("PUT", AgentRoutes.bundle, body: try body(upload))
        let unchanged = try QuiesceJSON.decode(BundleWritten.self, from: again.body)
        #expect(unchanged.files.allSatisfy { !$0.result.changed }, "a retried push changes nothing")
    }

    @Test func anyBadFileWritesNothingAtAll() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let config = String(decoding: server.config(), as: UTF8.self)
        var damaged = file("#!/bin/sh\necho post\n")
        damaged.sha256 = ContentHash.sha256(of: Array("other".utf8))
        let cases: [(BundleUpload, Int, String)] = [
            (
                BundleUpload(pluginConfig: file(config), preScript: file("#!/bin/sh\n"), postScript: damaged), 422,
                "HashMismatch"
            ),
            (
                BundleUpload(
                    pluginConfig: file(
                        #"{"preScriptLocation": "/tmp/evil.sh", "postScriptLocation": "/tmp/evil2.sh"}"#),
                    preScript: file("#!/bin/sh\n"), postScript: nil), 403, "OutsideScriptRoot"
            ),
            (BundleUpload(pluginConfig: file(#"{"preScriptLocation": 1}"#), preScript: nil, postScript: nil), 422, ""),
        ]
        for (upload, status, code) in cases {
            let answer = try await server.send("PUT", AgentRoutes.bundle, body: try body(upload))
            #expect(answer.status == status, "\(answer.text)")
            if !code.isEmpty { #expect((try? answer.json())?["code"] as? String == code) }
        }
        let unknown = try await server.send(
            "PUT", AgentRoutes.bundle,
            body: Array(#"{"pluginConfig": {"content": "", "sha256": "", "signatur": "x"}}"#.utf8))
        #expect(unknown.status == 400)
        #expect(unknown.text.contains("`signatur`"))
        let notBase64 = try await server.send(
            "PUT", AgentRoutes.bundle, body: Array(#"{"pluginConfig": {"content": "%%", "sha256": "00"}}"#.utf8))
        #expect(notBase64.status == 400)
        #expect(!FileManager.default.fileExists(atPath: server.settings.pluginConfigPath))
        #expect(!FileManager.default.fileExists(atPath: server.directory.url("scripts/pre.sh")))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil.sh"))
    }
}
