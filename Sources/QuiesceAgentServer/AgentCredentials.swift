import FoundationEssentials
import NIOSSL
import QuiesceAPI
import QuiesceAgent
import QuiesceHTTPServer
import QuiesceSystem
import Synchronization

/// What the agent proves itself and checks callers with: its bearer tokens (every one of
/// `auth.tokenFile` and `auth.tokenFiles` is accepted, so a token can be rotated without a
/// moment when the coordinator is shut out) and its TLS certificate and key. `reload` swaps them
/// all at once on SIGHUP, or changes nothing when one of them is unusable: connections and
/// sessions under way are not touched, new connections get the new certificate.
public final class AgentCredentials: ServerCredentials {
    private struct Current: Sendable {
        var tokens: [BearerToken]
        var tls: NIOSSLContext?
        var certificateNotAfter: Date?
        var certificateIsCredential = false
    }

    private let current: Mutex<Current>
    /// Whether the listener speaks TLS; fixed for its life (a reload cannot switch it).
    public let usesTLS: Bool

    public init(server: AgentSettings.Server, owner: UInt32) throws(AgentError) {
        let loaded = try Self.load(server, owner: owner)
        usesTLS = loaded.tls != nil
        current = Mutex(loaded)
    }

    private init(_ current: Current) {
        usesTLS = current.tls != nil
        self.current = Mutex(current)
    }

    /// An agent waiting for enrollment holds no credential: it serves only open routes.
    public static func none() -> AgentCredentials { AgentCredentials(Current(tokens: [], tls: nil)) }

    /// Loads the tokens and TLS files `server` names, and uses them from now on if all are
    /// usable; otherwise throws with what is wrong and keeps the ones in use.
    public func reload(_ server: AgentSettings.Server, owner: UInt32) throws(AgentError) -> String {
        let loaded = try Self.load(server, owner: owner)
        guard (loaded.tls != nil) == usesTLS else {
            throw AgentError(
                code: .invalidAgentSettings,
                message: "a reload cannot switch between plaintext and TLS (the listener is "
                    + "\(usesTLS ? "TLS" : "plaintext")): restart the agent for that; nothing was changed")
        }
        current.withLock { $0 = loaded }
        return "\(loaded.tokens.count) token\(loaded.tokens.count == 1 ? "" : "s")"
            + (loaded.certificateNotAfter.map { ", a certificate valid until \($0.formatted(.iso8601))" } ?? "")
    }

    /// Whether an `Authorization` header carries one of the tokens.
    public func accepts(authorization: String?) -> Bool {
        let (tokens, byCertificate) = current.withLock { ($0.tokens, $0.certificateIsCredential) }
        // The handshake already required a client certificate from the pinned CA.
        if byCertificate { return true }
        // Every token is compared, so the time taken does not say which one matched.
        var accepted = false
        for token in tokens where token.accepts(authorization: authorization) { accepted = true }
        return accepted
    }

    /// The TLS context for a new connection.
    public var tls: NIOSSLContext? { current.withLock { $0.tls } }

    /// When the certificate in use expires.
    public var certificateNotAfter: Date? { current.withLock { $0.certificateNotAfter } }

    private static func load(_ settings: AgentSettings.Server, owner: UInt32) throws(AgentError) -> Current {
        let server = try settings.resolvingEnrollment(owner: owner)
        var tokens: [BearerToken] = []
        for file in [server.tokenFile] + server.tokenFiles {
            // An enrolled agent needs no token; one that is there is still checked.
            if server.certificateIsCredential && (try? FileFacts.read(path: file)) == nil { continue }
            tokens.append(try BearerToken.load(path: file, owner: owner))
        }
        let tls = try AgentTLS.load(server, owner: owner)
        return Current(
            tokens: tokens, tls: tls?.context, certificateNotAfter: tls?.notAfter,
            certificateIsCredential: server.certificateIsCredential)
    }
}
