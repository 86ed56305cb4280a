import QuiesceAPI
import QuiesceAgent
import QuiesceCrypto
import QuiesceTestSupport
import Testing

/// `trust.signingKeys`: the cycle runs a config and scripts only with a valid signature by a
/// trusted key, checked on every run, and compliance says what it found.
@Suite("Signed files")
struct SignedFilesTests {
    private let key = Ed25519.PrivateKey()

    private func trustingFixture() throws -> FrameworkFixture {
        var fixture = try FrameworkFixture(pre: "echo quiesced", post: "echo released")
        fixture.settings.trust.signingKeys = [TrustedKey(key.publicKey)]
        return fixture
    }

    @Test func signedFilesRunAsUsualAndComplianceNamesTheirSigner() async throws {
        let fixture = try trustingFixture()
        defer { fixture.remove() }
        try fixture.sign(with: key)
        let report = await fixture.run(freezer: RecordingFreezer(), provider: RecordingProvider())
        #expect(report.consistency == .applicationConsistent, "\(report.errors)")
        #expect(report.preScript.stdoutTail == "quiesced\n")
        let check = ComplianceCheck.run(settings: fixture.settings)
        #expect(check.errors.isEmpty)
        let signers = check.files.filter { $0.role != .pluginHost }.map(\.signedBy)
        #expect(signers == Array(repeating: TrustedKey(key.publicKey).description, count: 3))
    }

    @Test func aScriptEditedAfterSigningIsNotRunAndTheReportSaysWhy() async throws {
        let fixture = try trustingFixture()
        defer { fixture.remove() }
        try fixture.sign(with: key)
        // Root on the VM (or a restore of an old file) changes the script; its mode stays right.
        try fixture.script("pre.sh", "echo tampered")
        let report = await fixture.run(freezer: RecordingFreezer(), provider: RecordingProvider())
        #expect(fixture.environment(of: "pre.sh") == nil, "the edited script must not run")
        let error = try #require(report.errors.first { $0.code == .signatureInvalid })
        #expect(error.message.contains(fixture.directory.url("pre.sh")))
        #expect(error.message.contains("does not match its content"))
        // Like a permission failure: continueBackupOnFailure decides, and it is true here.
        #expect(report.consistency == .fileSystemConsistent)
        let check = ComplianceCheck.run(settings: fixture.settings)
        #expect(check.errors.map(\.code) == [.signatureInvalid])
        #expect(check.predictedConsistency == .fileSystemConsistent)
        #expect(check.reason.contains("SignatureInvalid"))
    }

    @Test func anUnsignedConfigIsRefusedLikeOneWithLooseModes() async throws {
        let fixture = try trustingFixture()
        defer { fixture.remove() }
        let report = await fixture.run(freezer: RecordingFreezer(), provider: RecordingProvider())
        #expect(fixture.environment(of: "pre.sh") == nil && fixture.environment(of: "post.sh") == nil)
        #expect(report.consistency == .fileSystemConsistent)
        let error = try #require(report.errors.first)
        #expect(error.code == .signatureInvalid)
        #expect(error.message.contains("carries no signature"))
        #expect(error.message.contains("quiesce sign --key"))
    }

    @Test func aSignatureByAnUntrustedKeyOrForAnotherRoleCountsForNothing() async throws {
        let fixture = try trustingFixture()
        defer { fixture.remove() }
        try fixture.sign(with: Ed25519.PrivateKey())
        var check = ComplianceCheck.run(settings: fixture.settings)
        #expect(check.errors.map(\.code) == [.signatureInvalid])
        #expect(check.errors.first?.message.contains("not among this agent's trust.signingKeys") == true)

        // The config signed by the trusted key, but as a script: not a signature of a config.
        try fixture.sign(with: key)
        let config = "VMSnapshotScriptPluginConfig.json"
        let asScript = ContentSignature.sign(
            Array(try fixture.directory.read(config).utf8), role: .script, with: key)
        try fixture.directory.write(config + ContentSignature.fileSuffix, asScript.line)
        check = ComplianceCheck.run(settings: fixture.settings)
        #expect(check.errors.map(\.code) == [.signatureInvalid])
        #expect(check.errors.first?.message.contains("signed as another kind of file") == true)
    }

    @Test func withoutTrustedKeysSignaturesAreNotAskedFor() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let check = ComplianceCheck.run(settings: fixture.settings)
        #expect(check.errors.isEmpty)
        #expect(check.files.allSatisfy { $0.signedBy == nil })
    }
}
