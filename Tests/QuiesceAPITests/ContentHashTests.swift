import QuiesceAPI
import QuiesceCrypto
import Testing

@Suite("Content hash (SHA-256)")
struct ContentHashTests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
        (
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        ),
    ])
    func nistVectors(message: String, digest: String) {
        #expect(ContentHash.sha256(of: Array(message.utf8)) == digest)
    }

    @Test func aSliceHashesLikeTheBytesItViews() {
        let bytes = Array("xxabcxx".utf8)
        #expect(
            ContentHash.sha256(of: bytes[2..<5]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func everyLengthAroundTheBlockBoundaryMatchesSha256sum() throws {
        // 55 bytes pad into one block, 56 need a second, 64 fill one exactly.
        let expected = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
        ]
        for (length, digest) in expected {
            #expect(
                ContentHash.sha256(of: [UInt8](repeating: UInt8(ascii: "a"), count: length)) == digest,
                "length \(length)")
        }
    }
}

@Suite("Content signature")
struct ContentSignatureTests {
    private let key = Ed25519.PrivateKey()
    private let script = Array("#!/bin/sh\nexit 0\n".utf8)

    @Test func aSignatureSurvivesItsLineAndChecksOnlyItsBytesInItsRole() throws {
        let signature = ContentSignature.sign(script, role: .script, with: key)
        let read = try ContentSignature(line: signature.line + "\n")
        #expect(read == signature)
        #expect(read.signer == TrustedKey(key.publicKey))
        #expect(read.isValid(for: script, role: .script))
        #expect(!read.isValid(for: script, role: .pluginConfig))
        #expect(!read.isValid(for: script + [0x0a], role: .script))
    }

    @Test func aKeyIsWrittenAndReadAsEd25519Base64() throws {
        let trusted = TrustedKey(key.publicKey)
        #expect(trusted.description.hasPrefix("ed25519:"))
        #expect(try TrustedKey(trusted.description) == trusted)
        #expect(try TrustedKey(trusted.base64) == trusted)
    }

    @Test(arguments: [
        "", "ed25519", "rsa AAAA AAAA", "ed25519 not-base64 AAAA", "ed25519 \(String(repeating: "A", count: 44)) short",
    ])
    func malformedLinesAreRefusedWithTheFormat(line: String) {
        #expect(throws: ContentSignature.Malformed.self) { try ContentSignature(line: line) }
    }
}
