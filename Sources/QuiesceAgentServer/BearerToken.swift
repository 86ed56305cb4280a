import QuiesceAPI
import QuiesceAgent
import QuiesceSystem

/// The agent's bearer token, read from a file that only its owner may read.
public struct BearerToken: Sendable {
    private let secret: [UInt8]

    public init(secret: String) { self.secret = Array(secret.utf8) }

    /// Reads the token file: a regular file owned by `owner`, mode 0600 or 0400, in directories
    /// nobody else can write (the plugin config's rule), holding one non-empty line.
    public static func load(path: String, owner: UInt32) throws(AgentError) -> BearerToken {
        let facts: FileFacts
        do {
            facts = try FileFacts.read(path: path)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings,
                message:
                    "cannot read the token file \(path): \(error.reason); create it with a random token (for example "
                    + "`openssl rand -hex 32 > \(path); chmod 0600 \(path)`)"
            )
        }
        let violations = PermissionRule.pluginConfig.violations(of: facts, owner: owner)
        guard violations.isEmpty else {
            throw AgentError(
                code: .invalidAgentSettings,
                message: "the token file is not private: " + violations.joined(separator: "; "))
        }
        let text: String
        do {
            text = String(decoding: try FileReader.read(facts.target.path, limit: 4096), as: UTF8.self)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "cannot read the token file \(path): \(error.reason)")
        }
        let token = text.trimmingWhitespace()
        guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
            throw AgentError(
                code: .invalidAgentSettings, message: "the token in \(path) must be one word of at least 16 characters")
        }
        return BearerToken(secret: token)
    }

    /// Checks an `Authorization` header in time that does not depend on where it differs.
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        let offered = Array(authorization.utf8.dropFirst(7))
        var difference: UInt8 = offered.count == secret.count ? 0 : 1
        for index in 0..<max(offered.count, secret.count) {
            let left = index < offered.count ? offered[index] : 0
            let right = index < secret.count ? secret[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}
