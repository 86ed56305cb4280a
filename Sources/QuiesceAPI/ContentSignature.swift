import FoundationEssentials
import QuiesceCrypto

/// A detached Ed25519 signature of a pushed file: `ed25519 PUBLIC-KEY SIGNATURE`, both base64,
/// on one line. It is what `quiesce sign` writes beside a file (`FILE.sig`), what `quiesce push`
/// sends in the `X-Quiesce-Signature` header, and what the agent keeps beside the file it wrote.
///
/// What is signed is not the bytes alone but a statement binding them to their role, so a signed
/// script cannot be pushed as the plugin config (or the reverse):
///
///     quiesce-signature-v1\n<role>\n<sha256 hex of the file>\n
public struct ContentSignature: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case pluginConfig = "plugin-config"
        case script
    }

    /// Why a signature line or a key could not be read.
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static let header = "X-Quiesce-Signature"
    /// The detached signature's file: `path` with this appended.
    public static let fileSuffix = ".sig"

    public var signer: TrustedKey
    public var signature: [UInt8]

    /// Signs `bytes` in `role`.
    public static func sign(
        _ bytes: some Collection<UInt8>, role: Role, with key: Ed25519.PrivateKey
    ) -> ContentSignature {
        ContentSignature(signer: TrustedKey(key.publicKey), signature: key.signature(for: statement(bytes, role: role)))
    }

    /// Reads `ed25519 PUBLIC-KEY SIGNATURE`.
    public init(line: some StringProtocol) throws(Malformed) {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count == 3, fields[0] == "ed25519" else {
            throw Malformed(description: "a signature is `ed25519 PUBLIC-KEY SIGNATURE` (as `quiesce sign` writes it)")
        }
        signer = try TrustedKey(base64: fields[1])
        guard let signature = Data(base64Encoded: String(fields[2])), signature.count == 64 else {
            throw Malformed(description: "the signature is not 64 bytes of base64")
        }
        self.signature = Array(signature)
    }

    private init(signer: TrustedKey, signature: [UInt8]) {
        self.signer = signer
        self.signature = signature
    }

    public var line: String { "ed25519 \(signer.base64) \(Data(signature).base64EncodedString())" }

    /// Whether this is `signer`'s signature of `bytes` in `role`.
    public func isValid(for bytes: some Collection<UInt8>, role: Role) -> Bool {
        signer.key.isValidSignature(signature, for: Self.statement(bytes, role: role))
    }

    static func statement(_ bytes: some Collection<UInt8>, role: Role) -> [UInt8] {
        Array("quiesce-signature-v1\n\(role.rawValue)\n\(ContentHash.sha256(of: bytes))\n".utf8)
    }
}

/// An Ed25519 public key an agent trusts to sign what it runs, written `ed25519:BASE64` in its
/// settings (`trust.signingKeys`) and by `quiesce sign --new-key`.
public struct TrustedKey: Sendable, Equatable, CustomStringConvertible {
    public let key: Ed25519.PublicKey

    public init(_ key: Ed25519.PublicKey) { self.key = key }

    /// `ed25519:BASE64`, or the bare base64.
    public init(_ text: some StringProtocol) throws(ContentSignature.Malformed) {
        let text = String(text)
        try self.init(base64: text.hasPrefix("ed25519:") ? String(text.dropFirst("ed25519:".count)) : text)
    }

    init(base64: some StringProtocol) throws(ContentSignature.Malformed) {
        guard let raw = Data(base64Encoded: String(base64)), let key = try? Ed25519.PublicKey(raw: Array(raw))
        else {
            throw ContentSignature.Malformed(
                description: "\"\(base64)\" is not an Ed25519 public key (32 bytes of base64, as `quiesce sign "
                    + "--new-key` prints it)")
        }
        self.key = key
    }

    public var base64: String { Data(key.raw).base64EncodedString() }
    public var description: String { "ed25519:\(base64)" }
}
