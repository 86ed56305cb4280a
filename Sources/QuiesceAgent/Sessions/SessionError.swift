import QuiesceAPI

/// Why a session request is refused; `kind` decides the HTTP status.
public struct SessionError: APIError, Sendable, Equatable {
    public enum Kind: Sendable {
        case notFound, conflict, invalid
        /// The agent is shutting down: try another time.
        case unavailable
    }

    public var kind: Kind
    public var code: ErrorCode
    public var message: String

    public init(_ kind: Kind, _ code: ErrorCode, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var httpStatus: Int {
        switch kind {
        case .notFound: 404
        case .conflict: 409
        case .invalid: 400
        case .unavailable: 503
        }
    }
}
