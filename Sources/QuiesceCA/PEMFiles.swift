import Crypto
import Glibc
import QuiesceSystem
import SwiftASN1
import X509

/// Certificates and keys on disk as PEM: certificates 0644, keys 0600 and ours alone, every
/// file written whole or not at all.
enum PEMFiles {
    static func certificate(at path: String) throws(CAError) -> Certificate {
        let text = try self.text(at: path)
        do {
            return try Certificate(pemEncoded: text)
        } catch {
            throw CAError("\(path) is not a PEM certificate (\(error))")
        }
    }

    /// A private key, refused when anyone but us could read it.
    static func key(at path: String) throws(CAError) -> P256.Signing.PrivateKey {
        let text = try privateText(at: path)
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw CAError("\(path) is not a PEM ECDSA P-256 private key (\(error))")
        }
    }

    /// A secret file's text, refused when anyone but us could read it.
    static func privateText(at path: String) throws(CAError) -> String {
        let facts: FileFacts
        do {
            facts = try FileFacts.read(path: path)
        } catch {
            throw CAError("cannot read \(path): \(error.reason)")
        }
        let mode = facts.target.permissions & 0o777
        guard mode & 0o077 == 0 else {
            throw CAError(
                "\(path) has mode \(String(mode, radix: 8)): a private key must be readable by its owner only "
                    + "(chmod 600 \(path))")
        }
        guard facts.target.ownerUid == CurrentProcess.effectiveUserID else {
            throw CAError("\(path) belongs to uid \(facts.target.ownerUid), not to us: chown it or use our own")
        }
        return try text(at: path)
    }

    static func write(_ certificate: Certificate, to path: String) throws(CAError) {
        let pem: String
        do {
            pem = try certificate.serializeAsPEM().pemString
        } catch {
            throw CAError("cannot encode the certificate for \(path): \(error)")
        }
        try write(pem, to: path, mode: 0o644)
    }

    static func write(_ key: P256.Signing.PrivateKey, to path: String) throws(CAError) {
        try write(key.pemRepresentation, to: path, mode: 0o600)
    }

    static func write(_ text: String, to path: String, mode: mode_t) throws(CAError) {
        do {
            try AtomicFile.write(Array((text.hasSuffix("\n") ? text : text + "\n").utf8), to: path, mode: mode)
        } catch {
            throw CAError("cannot write \(path): \(error.reason)")
        }
    }

    private static func text(at path: String) throws(CAError) -> String {
        do {
            return try FileReader.text(path, limit: 256 * 1024)
        } catch {
            throw CAError("cannot read \(path): \(error.reason)")
        }
    }
}
