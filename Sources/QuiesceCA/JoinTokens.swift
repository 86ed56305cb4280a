import QuiesceAPI
import QuiesceSystem

/// The join tokens made for VMs and not used yet, one file per VM (`NAME.token`, 0600) in a
/// private directory (the state directory's `enroll/`). A token is deleted once its VM is
/// enrolled: the coordinator cannot use it twice either.
public struct JoinTokens: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = CurrentProcess.absolute(directory) }

    /// A new token for `vm`, pinning the CA with `caFingerprint`; replaces an unused one.
    public func make(for vm: String, caFingerprint: String) throws(CAError) -> Enrollment.JoinToken {
        try CertificateAuthority.checkFileName(vm)
        let token = Enrollment.JoinToken(caFingerprint: caFingerprint)
        do {
            try Directory.make(directory, mode: 0o700)
            try AtomicFile.write(Array((token.description + "\n").utf8), to: file(vm), mode: 0o600)
        } catch {
            throw CAError("cannot write \(file(vm)): \(error.reason)")
        }
        return token
    }

    /// The unused token made for `vm`, if any.
    public func pending(for vm: String) throws(CAError) -> Enrollment.JoinToken? {
        try CertificateAuthority.checkFileName(vm)
        guard let bytes = try? FileReader.read(file(vm), limit: 4096) else { return nil }
        do {
            return try Enrollment.JoinToken(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw CAError("\(file(vm)): \(error)")
        }
    }

    public func consume(for vm: String) { AtomicFile.remove(file(vm)) }

    private func file(_ vm: String) -> String { "\(directory)/\(vm).token" }
}
