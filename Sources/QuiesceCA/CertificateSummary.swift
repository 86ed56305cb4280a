import Foundation
import SwiftASN1
import X509

/// What an operator needs to know of a certificate: whose it is, for which names, until when.
public struct CertificateSummary: Codable, Sendable, Equatable {
    /// The PEM file it was read from.
    public var file: String
    public var subject: String
    public var issuer: String
    /// DNS names and IP addresses it is valid for.
    public var names: [String]
    /// `ca`, `server` (an agent) or `client` (a coordinator).
    public var role: String
    public var notBefore: Date
    public var notAfter: Date

    public init(file: String, certificate: Certificate) {
        self.file = file
        subject = certificate.subject.description
        issuer = certificate.issuer.description
        let extensions = certificate.extensions
        names = ((try? extensions.subjectAlternativeNames) ?? nil).map { $0.map(Self.name) } ?? []
        let usages = ((try? extensions.extendedKeyUsage) ?? nil).map { Array($0) } ?? []
        if case .isCertificateAuthority = (try? extensions.basicConstraints) ?? nil {
            role = "ca"
        } else if usages.contains(.serverAuth) {
            role = "server"
        } else if usages.contains(.clientAuth) {
            role = "client"
        } else {
            role = "other"
        }
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
    }

    /// Reads the first certificate of a PEM file.
    public static func read(_ path: String) throws(CAError) -> CertificateSummary {
        CertificateSummary(file: path, certificate: try PEMFiles.certificate(at: path))
    }

    /// Whole days from `now` until it expires; negative once it has.
    public func daysLeft(at now: Date = Date()) -> Int {
        Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
    }

    private static func name(_ name: GeneralName) -> String {
        switch name {
        case .dnsName(let dns): return dns
        case .ipAddress(let bytes):
            let octets = Array(bytes.bytes)
            if octets.count == 4 { return octets.map(String.init).joined(separator: ".") }
            return stride(from: 0, to: octets.count, by: 2).map {
                String(UInt16(octets[$0]) << 8 | UInt16(octets[$0 + 1]), radix: 16)
            }.joined(separator: ":")
        default: return "\(name)"
        }
    }
}
