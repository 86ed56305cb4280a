import QuiesceAPI
import QuiesceAgent
import QuiesceHTTPServer
import QuiesceSystem

/// The agent's bearer token, read from a file that only its owner may read.
public struct BearerToken: Sendable {
    private let secret: [UInt8]

    public init(secret: String) { self.secret = Array(secret.utf8) }

    /// Reads the token file: a regular file owned by `owner`, mode 0600 or 0400, in directories
    /// nobody else can write (the plugin config's rule), holding one non-empty line.
    public static func load(path: String, owner: UInt32) throws(AgentError) -> BearerToken {
        let token = try privateText(
            path, owner: owner, what: "the token file",
            create: "create it with a random token (for example `openssl rand -hex 32 > \(path); chmod 0600 \(path)`)")
        guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
            throw AgentError(
                code: .invalidAgentSettings, message: "the token in \(path) must be one word of at least 16 characters")
        }
        return BearerToken(secret: token)
    }

    /// The trimmed text of a secret file (a token, a join token), refused unless it follows the
    /// plugin config's rule; `what` and `create` name it and say how to make it in errors.
    static func privateText(_ path: String, owner: UInt32, what: String, create: String) throws(AgentError)
        -> String
    {
        let facts: FileFacts
        do {
            facts = try FileFacts.read(path: path)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "cannot read \(what) \(path): \(error.reason); \(create)")
        }
        let violations = PermissionRule.pluginConfig.violations(of: facts, owner: owner)
        guard violations.isEmpty else {
            throw AgentError(
                code: .invalidAgentSettings, message: "\(what) is not private: " + violations.joined(separator: "; "))
        }
        do {
            return String(decoding: try FileReader.read(facts.target.path, limit: 4096), as: UTF8.self)
                .trimmingWhitespace()
        } catch {
            throw AgentError(code: .invalidAgentSettings, message: "cannot read \(what) \(path): \(error.reason)")
        }
    }

    /// Checks an `Authorization` header in time that does not depend on where it differs.
    public func accepts(authorization: String?) -> Bool {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return false }
        return ConstantTime.equal(authorization.utf8.dropFirst(7), secret)
    }
}
