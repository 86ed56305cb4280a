import Foundation

/// A throwaway certificate authority with a server certificate for `serverAddresses` (127.0.0.1
/// unless told) and a client certificate, made with the openssl command line.
public struct TestPKI: Sendable {
    public let caCertificate: String
    public let serverCertificate: String
    public let serverKey: String
    public let clientCertificate: String
    public let clientKey: String

    public init(in directory: TemporaryDirectory, name: String = "test", serverAddresses: [String] = ["127.0.0.1"])
        throws
    {
        let base = directory.url("pki-\(name)")
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        caCertificate = "\(base)/ca.pem"
        serverCertificate = "\(base)/server.pem"
        serverKey = "\(base)/server.key"
        clientCertificate = "\(base)/client.pem"
        clientKey = "\(base)/client.key"
        let caKey = "\(base)/ca.key"
        try Shell.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
            caKey,
            "-out", caCertificate, "-days", "2", "-subj", "/CN=\(name) test CA",
        ])
        for (certificate, key, subject, extensions) in [
            (
                serverCertificate, serverKey, "/CN=\(serverAddresses[0])",
                "subjectAltName=\(serverAddresses.map { "IP:\($0)" }.joined(separator: ","))\n"
                    + "extendedKeyUsage=serverAuth"
            ),
            (clientCertificate, clientKey, "/CN=quiesce coordinator", "extendedKeyUsage=clientAuth"),
        ] {
            let request = "\(certificate).csr"
            let extensionFile = "\(certificate).ext"
            try extensions.write(toFile: extensionFile, atomically: true, encoding: .utf8)
            try Shell.run([
                "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out",
                request, "-subj", subject,
            ])
            try Shell.run([
                "openssl", "x509", "-req", "-in", request, "-CA", caCertificate, "-CAkey", caKey, "-CAcreateserial",
                "-out",
                certificate, "-days", "2", "-extfile", extensionFile,
            ])
        }
    }
}
