import FoundationEssentials
import NIOHTTP1
import NIOSSL
import QuiesceAPI
import QuiesceAgent
import QuiesceCrypto
import QuiesceHTTPServer
import QuiesceSystem
import Synchronization

/// The agent's side of enrollment (`Enrollment`): while it holds a join token and no
/// certificate, it serves only `/v1/health` and the two enrollment routes, proves it knows the
/// token for the key it made itself, and takes a certificate only from someone who proves the
/// same, for its own key, from the CA the token names. Then it writes the certificate and CA
/// beside its key, deletes the token and says so, and `serve` starts again with mutual TLS.
public final class AgentEnrollment: Sendable {
    /// Where an agent stands.
    public enum State: Sendable {
        /// TLS set by hand, or no join token: enrollment plays no part.
        case notEnrolling
        /// A join token and no certificate yet.
        case waiting(Enrollment.JoinToken)
        /// Enrolled: the enrollment directory's certificate, key and CA are its TLS.
        case enrolled
    }

    public struct Files: Sendable {
        public var directory: String
        public var key: String { directory + "/agent.key" }
        public var certificate: String { directory + "/agent.pem" }
        public var ca: String { directory + "/ca.pem" }
        /// When and with which token (its digest) the agent was enrolled.
        public var record: String { directory + "/enrolled.json" }

        public init(_ server: AgentSettings.Server) { directory = server.enrollmentDirectory }

        var areComplete: Bool { [key, certificate, ca].allSatisfy { (try? FileFacts.read(path: $0)) != nil } }
    }

    /// Where `server` stands. A join token left beside a complete enrollment (cloud-init writing
    /// it again at boot, say) is used up already: it is deleted and never enters enrollment again.
    public static func state(of server: AgentSettings.Server, owner: UInt32) throws(AgentError) -> State {
        guard server.certificateFile == nil else { return .notEnrolling }
        let files = Files(server)
        let tokenPresent = (try? FileFacts.read(path: server.joinTokenFile)) != nil
        if files.areComplete {
            if tokenPresent {
                AtomicFile.remove(server.joinTokenFile)
                CurrentProcess.writeToStandardError(
                    "quiesce-agent: \(server.joinTokenFile) removed: this agent is enrolled (\(files.record)) and a "
                        + "join token works once\n")
            }
            return .enrolled
        }
        guard tokenPresent else { return .notEnrolling }
        let text = try BearerToken.privateText(
            server.joinTokenFile, owner: owner, what: "the join token file",
            create: "write the token `quiesce enroll token` printed into it, mode 0600")
        do {
            return .waiting(try Enrollment.JoinToken(text))
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "\(server.joinTokenFile): \(error); nothing was changed")
        }
    }

    private let token: Enrollment.JoinToken
    private let files: Files
    private let joinTokenFile: String
    private let owner: UInt32
    private let key: P256KeyPair
    /// The nonce of the last hello answered; an enrollment request must answer it, once.
    private let agentNonce = Mutex<String?>(nil)
    private let finished: AsyncStream<Void>
    private let finish: AsyncStream<Void>.Continuation

    /// Loads the agent's key from the enrollment directory, making it (0600) on first start.
    public init(token: Enrollment.JoinToken, server: AgentSettings.Server, owner: UInt32) throws(AgentError) {
        self.token = token
        files = Files(server)
        joinTokenFile = server.joinTokenFile
        self.owner = owner
        key = try Self.loadOrMakeKey(files, owner: owner)
        (finished, finish) = AsyncStream.makeStream()
    }

    /// Returns once a certificate has been accepted and written.
    public func waitUntilEnrolled() async {
        for await _ in finished { return }
    }

    public func routes() -> [Route] {
        [
            Route(.POST, Enrollment.helloRoute, bodyLimit: 4096, requiresAuthentication: false) { [self] request in
                let hello = try StrictRequestBody.decode(
                    Enrollment.Hello.self, from: request.body, allowedKeys: ["coordinatorNonce"])!
                return try .json(self.answer(hello))
            },
            Route(.POST, Enrollment.route, bodyLimit: 64 * 1024, requiresAuthentication: false) { [self] request in
                let enrollment = try StrictRequestBody.decode(
                    Enrollment.Request.self, from: request.body,
                    allowedKeys: ["certificate", "caCertificate", "proof"])!
                return try .json(self.enroll(enrollment))
            },
        ]
    }

    private func answer(_ hello: Enrollment.Hello) -> Enrollment.HelloAnswer {
        let nonce = Enrollment.nonce()
        agentNonce.withLock { $0 = nonce }
        let publicKey = Data(key.publicKeyDER).base64EncodedString()
        return Enrollment.HelloAnswer(
            publicKey: publicKey, agentNonce: nonce,
            proof: Enrollment.agentProof(
                token, coordinatorNonce: hello.coordinatorNonce, agentNonce: nonce, publicKey: publicKey))
    }

    private func enroll(_ request: Enrollment.Request) throws(HTTPError) -> Enrollment.Answer {
        func refuse(_ why: String) -> HTTPError { HTTPError(.forbidden, .enrollmentRefused, why + "; nothing changed") }
        // The nonce is used up by any attempt: a recorded or guessed request gets one try, not many.
        guard
            let nonce = agentNonce.withLock({ current in
                defer { current = nil }
                return current
            })
        else {
            throw refuse("no enrollment hello is outstanding (each hello allows one enrollment request)")
        }
        let expected = Enrollment.coordinatorProof(
            token, agentNonce: nonce, certificate: request.certificate, caCertificate: request.caCertificate)
        guard Enrollment.isValid(request.proof, expected: expected) else {
            throw refuse(
                "the proof does not match this agent's join token: the coordinator holds another token for this VM, "
                    + "or the request was replayed")
        }
        let certificate: NIOSSLCertificate
        let ca: NIOSSLCertificate
        do {
            certificate = try NIOSSLCertificate(bytes: Array(request.certificate.utf8), format: .pem)
            ca = try NIOSSLCertificate(bytes: Array(request.caCertificate.utf8), format: .pem)
        } catch {
            throw refuse("the certificate or the CA is not PEM (\(error))")
        }
        do {
            guard ContentHash.sha256(of: try ca.toDERBytes()) == token.caFingerprint else {
                throw refuse("the CA is not the one the join token names (SHA-256 \(token.caFingerprint))")
            }
            guard try certificate.extractPublicKey().toSPKIBytes() == key.publicKeyDER else {
                throw refuse("the certificate is not for this agent's key")
            }
        } catch let error as HTTPError {
            throw error
        } catch {
            throw refuse("the certificate cannot be read (\(error))")
        }
        let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notValidAfter))
        do {
            try AtomicFile.write(Array(request.caCertificate.utf8), to: files.ca, mode: 0o644, owner: owner)
            try AtomicFile.write(Array(request.certificate.utf8), to: files.certificate, mode: 0o644, owner: owner)
            let record = #"{"enrolledAt": "\#(Date().formatted(.iso8601))", "joinTokenSHA256": "\#(token.digest)"}"#
            try AtomicFile.write(Array((record + "\n").utf8), to: files.record, mode: 0o600, owner: owner)
        } catch {
            throw HTTPError(.internalServerError, .writeFailed, "cannot write \(files.directory): \(error)")
        }
        AtomicFile.remove(joinTokenFile)
        finish.yield()
        return Enrollment.Answer(notAfter: notAfter)
    }

    private static func loadOrMakeKey(_ files: Files, owner: UInt32) throws(AgentError) -> P256KeyPair {
        if let text = try? FileReader.read(files.key, limit: 16 * 1024) {
            do {
                return try P256KeyPair(privateKeyPEM: String(decoding: text, as: UTF8.self))
            } catch {
                throw AgentError(
                    code: .invalidAgentSettings,
                    message: "\(files.key) is not a P-256 key (\(error)): remove it and the agent makes a new one")
            }
        }
        let key = P256KeyPair()
        do {
            try Directory.make(files.directory, mode: 0o700)
            try AtomicFile.write(Array(key.privateKeyPEM.utf8), to: files.key, mode: 0o600, owner: owner)
        } catch {
            throw AgentError(code: .invalidAgentSettings, message: "cannot make the agent's key \(files.key): \(error)")
        }
        return key
    }
}

extension AgentSettings.Server {
    /// These settings with the enrollment directory's certificate, key and CA as the TLS, and
    /// the certificate as the credential, when enrolled; otherwise unchanged.
    public func resolvingEnrollment(owner: UInt32) throws(AgentError) -> AgentSettings.Server {
        guard case .enrolled = try AgentEnrollment.state(of: self, owner: owner) else { return self }
        let files = AgentEnrollment.Files(self)
        var server = self
        server.certificateFile = files.certificate
        server.keyFile = files.key
        server.clientCAFile = files.ca
        server.certificateIsCredential = true
        return server
    }
}
