import QuiesceAPI
import QuiesceSystem

/// The agent's one error type: a stable code and a message that says what to fix, naming the
/// file or mount.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// A short description of a foreign error, without Swift type noise where it can help it.
    static func describe(_ error: any Error) -> String {
        if let error = error as? SystemError { return error.reason }
        return JSONValue.describe(error)
    }
}
