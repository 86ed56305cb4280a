import FoundationEssentials
import QuiesceAPI
import QuiesceCrypto
import QuiesceSystem

/// The Ed25519 key that signs plugin configs and scripts (`quiesce sign`). Its file is one line,
/// `ed25519-private:BASE64`, mode 0600; agents trust its public half (`trust.signingKeys`). It
/// can live off the coordinator's host: a coordinator without it can push nothing that runs.
public struct SigningKey: Sendable {
    public let privateKey: Ed25519.PrivateKey

    public var publicKey: TrustedKey { TrustedKey(privateKey.publicKey) }

    private static let prefix = "ed25519-private:"

    /// Makes a new key at `path`; an existing file is never replaced.
    public static func create(at path: String) throws(CAError) -> SigningKey {
        if (try? FileFacts.read(path: path)) != nil {
            throw CAError("\(path) exists; a signing key is never replaced (move it away first if you mean to)")
        }
        let key = SigningKey(privateKey: Ed25519.PrivateKey())
        try PEMFiles.write(Self.prefix + Data(key.privateKey.seed).base64EncodedString(), to: path, mode: 0o600)
        return key
    }

    /// Reads the key at `path`, refused when anyone but us could read it.
    public static func load(from path: String) throws(CAError) -> SigningKey {
        let text = try PEMFiles.privateText(at: path).trimmingWhitespace()
        guard text.hasPrefix(prefix), let raw = Data(base64Encoded: String(text.dropFirst(prefix.count))),
            let key = try? Ed25519.PrivateKey(seed: Array(raw))
        else {
            throw CAError("\(path) is not a signing key (`\(prefix)BASE64`, as `quiesce sign --new-key` writes it)")
        }
        return SigningKey(privateKey: key)
    }

    /// Writes a detached signature (`FILE.sig`, readable by all: it is no secret).
    public static func write(_ signature: ContentSignature, to path: String) throws(CAError) {
        try PEMFiles.write(signature.line, to: path, mode: 0o644)
    }

    /// The detached signature of `bytes` in `role`.
    public func sign(_ bytes: [UInt8], role: ContentSignature.Role) -> ContentSignature {
        ContentSignature.sign(bytes, role: role, with: privateKey)
    }
}
