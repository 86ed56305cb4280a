import Crypto
import Foundation
import QuiesceAPI
import QuiesceSystem
import SwiftASN1
import X509

/// The fleet's own certificate authority: an ECDSA P-256 key and self-signed certificate in a
/// directory of their own (0700; the key 0600), issuing each agent a server certificate for its
/// address and the coordinator a client certificate, so that mutual TLS needs no other PKI.
///
///     let ca = try CertificateAuthority.create(in: "/var/lib/quiesce/ca", name: "prod fleet", days: 3650)
///     let files = try ca.issue(for: .agent(name: "db-1", host: "10.0.0.5"), days: 397)
public struct CertificateAuthority: Sendable {
    public let directory: String
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// Who a certificate is for.
    public enum Subject: Sendable {
        /// An agent's server certificate, valid for `host` (its address in the inventory).
        case agent(name: String, host: String)
        /// The coordinator's client certificate.
        case coordinator
    }

    /// The files of an issued certificate.
    public struct Issued: Sendable {
        public var certificateFile: String
        public var keyFile: String
        public var summary: CertificateSummary
    }

    public var certificateFile: String { "\(directory)/ca.pem" }
    var keyFile: String { "\(directory)/ca.key" }

    /// Makes a new CA in `directory`, created 0700 if missing. An existing CA is never replaced:
    /// every certificate it issued would stop being trusted.
    public static func create(in directory: String, name: String, days: Int) throws(CAError) -> CertificateAuthority {
        guard days > 0 else { throw CAError("--days must be at least 1, not \(days)") }
        // The paths it prints go into settings and inventories elsewhere: never relative.
        let directory = CurrentProcess.absolute(directory)
        do {
            try Directory.make(directory, mode: 0o700)
        } catch {
            throw CAError("cannot create \(directory): \(error.reason)")
        }
        for file in ["ca.pem", "ca.key"] where FileManager.default.fileExists(atPath: "\(directory)/\(file)") {
            throw CAError(
                "\(directory)/\(file) exists: a CA is already there, and replacing it would untrust every "
                    + "certificate it issued (use another --dir, or remove the directory to start over)")
        }
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let certificate: Certificate
        do {
            let subject = try DistinguishedName {
                OrganizationName("Quiesce")
                CommonName(name)
            }
            let signingKey = Certificate.PrivateKey(key)
            certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: signingKey.publicKey,
                notValidBefore: now.addingTimeInterval(-300),
                notValidAfter: now.addingTimeInterval(Double(days) * 86_400),
                issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: signingKey.publicKey)
                }, issuerPrivateKey: signingKey)
        } catch {
            throw CAError("cannot make the CA certificate: \(error)")
        }
        let ca = CertificateAuthority(directory: directory, certificate: certificate, key: key)
        // The key first: a certificate without its key would look like a CA that cannot sign.
        try PEMFiles.write(key, to: ca.keyFile)
        try PEMFiles.write(certificate, to: ca.certificateFile)
        return ca
    }

    /// The CA in `directory`; its key must be ours and private.
    public static func open(_ directory: String) throws(CAError) -> CertificateAuthority {
        let directory = CurrentProcess.absolute(directory)
        guard FileManager.default.fileExists(atPath: "\(directory)/ca.pem") else {
            throw CAError("no CA in \(directory) (no ca.pem): make one with `quiesce ca init --dir \(directory)`")
        }
        let certificate = try PEMFiles.certificate(at: "\(directory)/ca.pem")
        let key = try PEMFiles.key(at: "\(directory)/ca.key")
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw CAError("\(directory)/ca.key is not the key of \(directory)/ca.pem")
        }
        return CertificateAuthority(directory: directory, certificate: certificate, key: key)
    }

    /// Issues a certificate with a new key, both written under the CA's directory (`agents/NAME`
    /// or `coordinator`); an earlier one for the same subject is replaced.
    public func issue(for subject: Subject, days: Int) throws(CAError) -> Issued {
        let base: String
        switch subject {
        case .agent(let name, _):
            base = try agentFiles(name)
        case .coordinator:
            base = "\(directory)/coordinator"
        }
        let key = P256.Signing.PrivateKey()
        let certificate = try sign(Certificate.PublicKey(key.publicKey), for: subject, days: days)
        try PEMFiles.write(key, to: base + ".key")
        try PEMFiles.write(certificate, to: base + ".pem")
        return Issued(
            certificateFile: base + ".pem", keyFile: base + ".key",
            summary: CertificateSummary(file: base + ".pem", certificate: certificate))
    }

    /// An agent's certificate for the key it made itself (enrollment): only the certificate is
    /// written (`agents/NAME.pem`); a key left from an earlier `issue` for it is removed, since the
    /// agent no longer uses it. Returns the certificate's PEM.
    public func issue(
        forAgentKey publicKey: P256.Signing.PublicKey, name: String, host: String, days: Int
    ) throws(CAError) -> (pem: String, summary: CertificateSummary) {
        let base = try agentFiles(name)
        let certificate = try sign(
            Certificate.PublicKey(publicKey), for: .agent(name: name, host: host), days: days)
        let file = base + ".pem"
        try PEMFiles.write(certificate, to: file)
        AtomicFile.remove(base + ".key")
        let pem: String
        do {
            pem = try certificate.serializeAsPEM().pemString + "\n"
        } catch {
            throw CAError("cannot encode the certificate: \(error)")
        }
        return (pem, CertificateSummary(file: file, certificate: certificate))
    }

    /// The SHA-256 of the CA certificate's DER, in hex: what a join token pins.
    public var fingerprint: String {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate)
        return ContentHash.sha256(of: serializer.serializedBytes)
    }

    /// The CA certificate as PEM, as it is sent to an enrolling agent.
    public var pem: String {
        get throws(CAError) {
            do {
                return try certificate.serializeAsPEM().pemString + "\n"
            } catch {
                throw CAError("cannot encode the CA certificate: \(error)")
            }
        }
    }

    /// Where an agent's files go, `agents/NAME` without the extension, the directory made.
    private func agentFiles(_ name: String) throws(CAError) -> String {
        try Self.checkFileName(name)
        do {
            try Directory.make("\(directory)/agents", mode: 0o700)
        } catch {
            throw CAError("cannot create \(directory)/agents: \(error.reason)")
        }
        return "\(directory)/agents/\(name)"
    }

    /// A certificate for `publicKey`, signed by this CA.
    func sign(_ publicKey: Certificate.PublicKey, for subject: Subject, days: Int) throws(CAError) -> Certificate {
        guard days > 0 else { throw CAError("--days must be at least 1, not \(days)") }
        let now = Date()
        // Never past the CA's own end: a chain is only as valid as its root.
        let end = min(now.addingTimeInterval(Double(days) * 86_400), certificate.notValidAfter)
        do {
            let name: DistinguishedName
            let extensions: Certificate.Extensions
            switch subject {
            case .agent(let vm, let host):
                name = try DistinguishedName {
                    OrganizationName("Quiesce")
                    CommonName(vm)
                }
                extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames([Self.generalName(host)])
                    AuthorityKeyIdentifier(keyIdentifier: try authorityKeyIdentifier())
                }
            case .coordinator:
                name = try DistinguishedName {
                    OrganizationName("Quiesce")
                    CommonName("quiesce coordinator")
                }
                extensions = try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.clientAuth])
                    AuthorityKeyIdentifier(keyIdentifier: try authorityKeyIdentifier())
                }
            }
            return try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: end, issuer: certificate.subject,
                subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
                issuerPrivateKey: Certificate.PrivateKey(key))
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError("cannot sign the certificate: \(error)")
        }
    }

    /// Every certificate in the directory: the CA's, the coordinator's, then the agents' by name.
    public func summaries() throws(CAError) -> [CertificateSummary] {
        var files = [certificateFile]
        if FileManager.default.fileExists(atPath: "\(directory)/coordinator.pem") {
            files.append("\(directory)/coordinator.pem")
        }
        let agents = (try? DirectoryListing.names(in: "\(directory)/agents")) ?? []
        files += agents.filter { $0.hasSuffix(".pem") }.map { "\(directory)/agents/\($0)" }
        var summaries: [CertificateSummary] = []
        for file in files { summaries.append(try CertificateSummary.read(file)) }
        return summaries
    }

    private func authorityKeyIdentifier() throws -> ArraySlice<UInt8> {
        guard let identifier = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier else {
            throw CAError("\(certificateFile) has no subject key identifier")
        }
        return identifier
    }

    /// An IP address SAN for an address, a DNS name SAN for anything else.
    static func generalName(_ host: String) -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: v4) { Array($0) })))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(withUnsafeBytes(of: v6) { Array($0) })))
        }
        return .dnsName(host)
    }

    /// A VM's name becomes a file name here and in the join tokens' directory.
    static func checkFileName(_ name: String) throws(CAError) {
        guard
            !name.isEmpty && !name.hasPrefix(".")
                && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
        else {
            throw CAError("VM name \"\(name)\" cannot name a file: use letters, digits, '.', '_' and '-'")
        }
    }
}
