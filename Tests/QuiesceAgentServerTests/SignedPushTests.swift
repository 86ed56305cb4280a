import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceCrypto
import QuiesceTestSupport
import Testing

/// Pushes to an agent with `trust.signingKeys` carry a valid signature or write nothing; the
/// signature is kept beside the file for the checks at run time.
@Suite("Signed pushes")
struct SignedPushTests {
    private let key = Ed25519.PrivateKey()
    private let script = Array("#!/bin/sh\nexit 0\n".utf8)

    private func trustingServer() async throws -> ServerFixture {
        let key = key
        return try await ServerFixture.start { $0.trust.signingKeys = [TrustedKey(key.publicKey)] }
    }

    private func signed(_ bytes: [UInt8], _ role: ContentSignature.Role, by signer: Ed25519.PrivateKey) -> [String:
        String]
    {
        [ContentSignature.header: ContentSignature.sign(bytes, role: role, with: signer).line]
    }

    @Test func anUnsignedOrStrangelySignedConfigIsRefusedAndNothingIsWritten() async throws {
        let server = try await trustingServer()
        defer { server.stop() }
        let path = server.settings.pluginConfigPath
        let unsigned = try await server.send("PUT", AgentRoutes.pluginConfig, body: server.config())
        #expect(unsigned.status == 403)
        #expect(try unsigned.json()["code"] as? String == "SignatureInvalid")
        #expect(unsigned.text.contains("quiesce sign --key"))
        let stranger = try await server.send(
            "PUT", AgentRoutes.pluginConfig,
            headers: signed(server.config(), .pluginConfig, by: Ed25519.PrivateKey()),
            body: server.config())
        #expect(stranger.status == 403)
        #expect(stranger.text.contains("not among this agent's trust.signingKeys"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!FileManager.default.fileExists(atPath: path + ".sig"))
    }

    @Test func signedFilesAreWrittenWithTheirSignatureBeside() async throws {
        let server = try await trustingServer()
        defer { server.stop() }
        let config = server.config()
        let put = try await server.send(
            "PUT", AgentRoutes.pluginConfig, headers: signed(config, .pluginConfig, by: key), body: config)
        #expect(put.status == 200, "\(put.text)")
        var headers = signed(script, .script, by: key)
        headers[AgentRoutes.contentSHA256Header] = ContentHash.sha256(of: script)
        let pre = try await server.send("PUT", AgentRoutes.script(.pre), headers: headers, body: script)
        #expect(pre.status == 200, "\(pre.text)")
        let kept = try String(contentsOfFile: server.settings.server.scriptRoot + "/pre.sh.sig", encoding: .utf8)
        #expect(try ContentSignature(line: kept).isValid(for: script, role: .script))

        // Another script under the same signature: refused, and the one in place stays.
        let other = Array("#!/bin/sh\nrm -rf /\n".utf8)
        headers[AgentRoutes.contentSHA256Header] = ContentHash.sha256(of: other)
        let swapped = try await server.send("PUT", AgentRoutes.script(.pre), headers: headers, body: other)
        #expect(swapped.status == 403)
        #expect(
            try [UInt8](Data(contentsOf: URL(fileURLWithPath: server.settings.server.scriptRoot + "/pre.sh")))
                == script)
    }

    @Test func withoutTrustedKeysASignatureIsKeptAndAStaleOneRemoved() async throws {
        let server = try await ServerFixture.start()
        defer { server.stop() }
        let config = server.config()
        let signature = server.settings.pluginConfigPath + ".sig"
        let first = try await server.send(
            "PUT", AgentRoutes.pluginConfig, headers: signed(config, .pluginConfig, by: key), body: config)
        #expect(first.status == 200)
        #expect(FileManager.default.fileExists(atPath: signature))
        let unsigned = try await server.send("PUT", AgentRoutes.pluginConfig, body: config)
        #expect(unsigned.status == 200)
        #expect(try unsigned.json()["changed"] as? Bool == true, "dropping the signature is a change")
        #expect(!FileManager.default.fileExists(atPath: signature))
        let malformed = try await server.send(
            "PUT", AgentRoutes.pluginConfig, headers: [ContentSignature.header: "ed25519 nonsense"], body: config)
        #expect(malformed.status == 400)
        #expect(malformed.text.contains(ContentSignature.header))
    }
}
