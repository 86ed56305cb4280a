import QuiesceAPI
import QuiesceSystem

/// `trust.signingKeys`: with any key, a plugin config or script counts only with a valid
/// detached signature by one of them. Pushes check the signature they carry; cycles and
/// compliance check the one kept beside the file (`FILE.sig`), so a file edited on the VM after
/// its push is caught.
public struct SignatureRule: Sendable {
    public let keys: [TrustedKey]

    public init(keys: [TrustedKey]) { self.keys = keys }

    public var isOn: Bool { !keys.isEmpty }

    /// The trusted key that signed `bytes` in `role` with `signature` (a signature line), or why
    /// none did, in words that name `path` and the fix.
    public func signer(
        of bytes: [UInt8], role: ContentSignature.Role, signature: String?, path: String
    ) -> Result<TrustedKey, Refusal> {
        let resign = "sign it with `quiesce sign --key KEY` and push it again"
        guard let signature else {
            return .failure(Refusal("\(path) carries no signature and this agent runs only signed files: \(resign)"))
        }
        let parsed: ContentSignature
        do {
            parsed = try ContentSignature(line: signature)
        } catch {
            return .failure(Refusal("the signature of \(path) is unreadable (\(error)): \(resign)"))
        }
        guard keys.contains(parsed.signer) else {
            return .failure(
                Refusal(
                    "\(path) is signed by \(parsed.signer), which is not among this agent's trust.signingKeys: sign "
                        + "it with a trusted key, or add the key's public half to trust.signingKeys"))
        }
        guard parsed.isValid(for: bytes, role: role) else {
            return .failure(
                Refusal(
                    "the signature of \(path) by \(parsed.signer) does not match its content (changed after it "
                        + "was signed, or signed as another kind of file): \(resign)"))
        }
        return .success(parsed.signer)
    }

    /// `signer(of:)` with the signature kept beside the file at `path`.
    public func signerOfFile(_ bytes: [UInt8], role: ContentSignature.Role, path: String) -> Result<TrustedKey, Refusal>
    {
        let line = (try? FileReader.read(path + ContentSignature.fileSuffix, limit: 4096)).map {
            String(decoding: $0, as: UTF8.self)
        }
        return signer(of: bytes, role: role, signature: line, path: path)
    }

    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
