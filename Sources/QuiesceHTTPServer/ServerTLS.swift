import NIOSSL

/// A listener's TLS: its certificate chain and key, TLS 1.2 at least, and with a client CA,
/// mutual TLS (a client must present a certificate that chains to it; names are not checked,
/// callers are not hosts). The agent and `quiesce serve` build theirs here.
public enum ServerTLS {
    public static func context(
        chain: [NIOSSLCertificate], keyFile: String, clientCAFile: String?
    ) throws -> NIOSSLContext {
        let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            configuration.trustRoots = .file(clientCAFile)
            configuration.certificateVerification = .noHostnameVerification
        }
        return try NIOSSLContext(configuration: configuration)
    }
}

/// Compares secrets in time that does not depend on where they differ.
public enum ConstantTime {
    public static func equal(_ offered: some Collection<UInt8>, _ secret: [UInt8]) -> Bool {
        let offered = Array(offered)
        var difference: UInt8 = offered.count == secret.count ? 0 : 1
        for index in 0..<max(offered.count, secret.count) {
            difference |= (index < offered.count ? offered[index] : 0) ^ (index < secret.count ? secret[index] : 0)
        }
        return difference == 0
    }
}
