import FoundationEssentials
import QuiesceCrypto

/// Enrollment: an agent that holds only a one-time join token gets a certificate from the
/// fleet's CA for a key it made itself, and from then on serves mutual TLS with that CA pinned.
/// Nothing secret crosses the network, so the exchange may run over plain HTTP: each side proves
/// it knows the join token with an HMAC over fresh nonces and what it vouches for (the agent its
/// public key, the coordinator the certificate and the CA). docs/security.md says what an
/// attacker in between can and cannot do.
///
///     coordinator                                   agent (waiting, join token T, key K)
///     POST /v1/enroll/hello {coordinatorNonce: c}  ->
///                      <- {publicKey: K.pub, agentNonce: a, proof: HMAC(T, "agent", c, a, K.pub)}
///     (checks the proof, signs K.pub with the CA)
///     POST /v1/enroll {certificate, caCertificate, proof: HMAC(T, "coordinator", a, cert, ca)} ->
///                      <- {notAfter}  (the agent deletes T and restarts its listener with mutual TLS)
public enum Enrollment {
    public static let helloRoute = "/v1/enroll/hello"
    public static let route = "/v1/enroll"

    /// `qj1:SECRET:CA-FINGERPRINT`: 32 random bytes as hex, and the SHA-256 of the CA certificate
    /// (DER) the agent is to accept, so that even a holder of the token cannot pin another CA.
    public struct JoinToken: Sendable, Equatable, CustomStringConvertible {
        public var secret: [UInt8]
        public var caFingerprint: String

        public init(caFingerprint: String) {
            secret = (0..<32).map { _ in UInt8.random(in: 0...255) }
            self.caFingerprint = caFingerprint
        }

        public init(_ text: some StringProtocol) throws(Malformed) {
            let fields = text.trimmingWhitespace().split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 3, fields[0] == "qj1", let secret = Self.bytes(hex: fields[1]), secret.count == 32,
                Self.bytes(hex: fields[2])?.count == 32
            else {
                throw Malformed(
                    description: "a join token is `qj1:` and two runs of 64 hex digits (as `quiesce enroll "
                        + "token` prints it)")
            }
            self.secret = secret
            caFingerprint = fields[2].lowercased()
        }

        public var description: String { "qj1:\(ContentHash.hex(secret)):\(caFingerprint)" }

        /// What is kept to recognise a used token without keeping the token.
        public var digest: String { ContentHash.sha256(of: Array(description.utf8)) }

        static func bytes(hex: some StringProtocol) -> [UInt8]? {
            let digits = Array(hex.utf8)
            guard digits.count % 2 == 0 else { return nil }
            var bytes: [UInt8] = []
            for index in stride(from: 0, to: digits.count, by: 2) {
                guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(byte)
            }
            return bytes
        }
    }

    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public struct Hello: Codable, Sendable {
        public var coordinatorNonce: String
        public init(coordinatorNonce: String) { self.coordinatorNonce = coordinatorNonce }
    }

    public struct HelloAnswer: Codable, Sendable {
        /// The agent's public key, SubjectPublicKeyInfo DER in base64.
        public var publicKey: String
        public var agentNonce: String
        public var proof: String
        public init(publicKey: String, agentNonce: String, proof: String) {
            self.publicKey = publicKey
            self.agentNonce = agentNonce
            self.proof = proof
        }
    }

    public struct Request: Codable, Sendable {
        /// PEM.
        public var certificate: String
        public var caCertificate: String
        public var proof: String
        public init(certificate: String, caCertificate: String, proof: String) {
            self.certificate = certificate
            self.caCertificate = caCertificate
            self.proof = proof
        }
    }

    public struct Answer: Codable, Sendable {
        public var notAfter: Date
        public init(notAfter: Date) { self.notAfter = notAfter }
    }

    /// A fresh nonce, base64.
    public static func nonce() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    /// The agent's proof: it holds `token` and vouches for `publicKey` in answer to this hello.
    public static func agentProof(
        _ token: JoinToken, coordinatorNonce: String, agentNonce: String, publicKey: String
    ) -> String {
        proof(token, ["agent", coordinatorNonce, agentNonce, publicKey])
    }

    /// The coordinator's proof: it holds `token` and vouches for this certificate and CA in
    /// answer to the agent's nonce.
    public static func coordinatorProof(
        _ token: JoinToken, agentNonce: String, certificate: String, caCertificate: String
    ) -> String {
        proof(token, ["coordinator", agentNonce, certificate, caCertificate])
    }

    /// Compares in constant time.
    public static func isValid(_ proof: String, expected: String) -> Bool {
        let given = Array(proof.utf8)
        let wanted = Array(expected.utf8)
        guard given.count == wanted.count else { return false }
        var difference: UInt8 = 0
        for index in given.indices { difference |= given[index] ^ wanted[index] }
        return difference == 0
    }

    private static func proof(_ token: JoinToken, _ fields: [String]) -> String {
        // Each field is length-prefixed, so no two lists of fields read as the same bytes.
        var message = Array("quiesce-enroll-v1".utf8)
        for field in fields {
            let bytes = Array(field.utf8)
            message += Array("\n\(bytes.count):".utf8) + bytes
        }
        return Data(Digest.hmacSHA256(key: token.secret, message: message)).base64EncodedString()
    }
}
