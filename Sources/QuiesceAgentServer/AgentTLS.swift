import FoundationEssentials
import NIOSSL
import QuiesceAPI
import QuiesceAgent
import QuiesceHTTPServer
import QuiesceSystem

/// The listener's TLS context from the settings: none without a certificate; mutual TLS when a
/// client CA is given (clients must present a certificate that chains to it).
public enum AgentTLS {
    /// A context ready to serve, and when its certificate expires (for the coordinator's sweep).
    public struct Loaded: Sendable {
        public var context: NIOSSLContext
        public var notAfter: Date
    }

    public static func load(_ server: AgentSettings.Server, owner: UInt32) throws(AgentError) -> Loaded? {
        guard let certificateFile = server.certificateFile, let keyFile = server.keyFile else { return nil }
        func unusable(_ why: String) -> AgentError {
            AgentError(
                code: .invalidAgentSettings,
                message: "cannot set up TLS from tls.certificateFile \(certificateFile) and tls.keyFile \(keyFile)"
                    + (server.clientCAFile.map { " and tls.clientCAFile \($0)" } ?? "") + ": \(why)")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw unusable("\(error)")
        }
        guard let leaf = chain.first else { throw unusable("\(certificateFile) holds no certificate") }
        let now = Date()
        let notAfter = Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
        let notBefore = Date(timeIntervalSince1970: TimeInterval(leaf.notValidBefore))
        guard notAfter > now, notBefore <= now else {
            throw AgentError(
                code: .invalidAgentSettings,
                message: "tls.certificateFile \(certificateFile) is valid from \(notBefore.formatted(.iso8601)) to "
                    + "\(notAfter.formatted(.iso8601)), not now: issue a new one (`quiesce ca issue --vm NAME`), "
                    + "put it and its key here, and reload (`systemctl reload quiesce-agent`)")
        }
        // The key proves who the agent is: like a token, only its owner may read it.
        if let facts = try? FileFacts.read(path: keyFile) {
            let violations = PermissionRule.pluginConfig.violations(of: facts, owner: owner)
            guard violations.isEmpty else {
                throw AgentError(
                    code: .invalidAgentSettings,
                    message: "tls.keyFile \(keyFile) is not private: " + violations.joined(separator: "; ")
                        + "; nothing was loaded")
            }
        }
        do {
            let context = try ServerTLS.context(chain: chain, keyFile: keyFile, clientCAFile: server.clientCAFile)
            return Loaded(context: context, notAfter: notAfter)
        } catch {
            throw unusable("\(error)")
        }
    }
}
