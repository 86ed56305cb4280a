import Crypto
import FoundationEssentials
import QuiesceCrypto
import Testing

/// QuiesceCrypto against published test vectors and against swift-crypto, an implementation
/// of its own: what one signs the other verifies, and keys cross between them.
@Suite("Crypto primitives")
struct CryptoPrimitivesTests {
    private static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
        }
    }

    @Test func sha256MatchesFIPS180Vectors() {
        #expect(
            Digest.sha256(Array("abc".utf8))
                == Self.bytes(hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(
            Digest.sha256([UInt8]())
                == Self.bytes(hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        let million = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Digest.sha256(million[...]) == Array(Crypto.SHA256.hash(data: million)))
    }

    @Test func hmacMatchesRFC4231AndSwiftCrypto() {
        // RFC 4231, test case 2.
        #expect(
            Digest.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
                == Self.bytes(hex: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let message = (0..<1000).map { _ in UInt8.random(in: 0...255) }
        #expect(
            Digest.hmacSHA256(key: key, message: message)
                == Array(HMAC<Crypto.SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))))
    }

    @Test func ed25519MatchesRFC8032TestOne() throws {
        let key = try Ed25519.PrivateKey(
            seed: Self.bytes(hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(
            key.publicKey.raw == Self.bytes(hex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = key.signature(for: [])
        #expect(
            signature
                == Self.bytes(
                    hex: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                        + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))
        #expect(key.publicKey.isValidSignature(signature, for: []))
        #expect(!key.publicKey.isValidSignature(signature, for: [0]))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: []))
    }

    @Test func ed25519KeysAndSignaturesCrossToSwiftCryptoBothWays() throws {
        let message = Array("quiesce-signature-v1\nscript\n".utf8)
        let ours = Ed25519.PrivateKey()
        let theirs = try Curve25519.Signing.PrivateKey(rawRepresentation: ours.seed)
        #expect(Array(theirs.publicKey.rawRepresentation) == ours.publicKey.raw)
        #expect(theirs.publicKey.isValidSignature(ours.signature(for: message), for: message))
        let other = Curve25519.Signing.PrivateKey()
        let theirPublic = try Ed25519.PublicKey(raw: Array(other.publicKey.rawRepresentation))
        #expect(theirPublic.isValidSignature(Array(try other.signature(for: message)), for: message))
        #expect(!ours.publicKey.isValidSignature(Array(try other.signature(for: message)), for: message))
    }

    @Test func ed25519RefusesKeysOfTheWrongLength() {
        #expect(throws: UnusableKey.self) { try Ed25519.PrivateKey(seed: [1, 2, 3]) }
        #expect(throws: UnusableKey.self) { try Ed25519.PublicKey(raw: [UInt8](repeating: 0, count: 33)) }
    }

    @Test func p256KeysCrossToSwiftCryptoBothWays() throws {
        let ours = P256KeyPair()
        #expect(ours.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let read = try P256.Signing.PrivateKey(pemRepresentation: ours.privateKeyPEM)
        #expect(Array(read.publicKey.derRepresentation) == ours.publicKeyDER)
        // A key an earlier agent made with swift-crypto still loads, and names the same public key.
        let earlier = P256.Signing.PrivateKey()
        let loaded = try P256KeyPair(privateKeyPEM: earlier.pemRepresentation)
        #expect(loaded.publicKeyDER == Array(earlier.publicKey.derRepresentation))
        #expect(try P256KeyPair(privateKeyPEM: loaded.privateKeyPEM).publicKeyDER == loaded.publicKeyDER)
    }

    @Test func p256RefusesWhatIsNotAP256PrivateKey() throws {
        #expect(throws: UnusableKey.self) { try P256KeyPair(privateKeyPEM: "not a key") }
        let p384 = P384.Signing.PrivateKey().pemRepresentation
        let error = #expect(throws: UnusableKey.self) { try P256KeyPair(privateKeyPEM: p384) }
        #expect(error?.description.contains("not a P-256") == true)
    }
}
