import FoundationEssentials
import NIOSSL
import QuiesceAPI
import QuiesceAgent

/// The listener's TLS context from the settings: none without a certificate; mutual TLS when a
/// client CA is given (clients must present a certificate that chains to it).
public enum AgentTLS {
    /// When the listener's certificate expires, for the coordinator's sweep; nil without TLS.
    public static func notAfter(of server: AgentSettings.Server) -> Date? {
        guard let file = server.certificateFile,
            let leaf = try? NIOSSLCertificate.fromPEMFile(file).first
        else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(leaf.notValidAfter))
    }

    public static func context(for server: AgentSettings.Server) throws(AgentError) -> NIOSSLContext? {
        guard let certificateFile = server.certificateFile, let keyFile = server.keyFile else { return nil }
        if let leaf = try? NIOSSLCertificate.fromPEMFile(certificateFile).first {
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
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            if let clientCAFile = server.clientCAFile {
                configuration.trustRoots = .file(clientCAFile)
                configuration.certificateVerification = .noHostnameVerification
            }
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings,
                message: "cannot set up TLS from tls.certificateFile \(certificateFile) and tls.keyFile \(keyFile)"
                    + (server.clientCAFile.map { " and tls.clientCAFile \($0)" } ?? "") + ": \(error)")
        }
    }
}
