import FoundationEssentials
import NIOHTTP1
import QuiesceAPI

/// An error of the HTTP layer itself (a route, a token, a body): the `APIError` the server and
/// its handlers throw when no error of the program's own says it better.
public struct HTTPError: APIError, Sendable {
    public var status: HTTPResponseStatus
    public var code: ErrorCode
    public var message: String
    public var details: [String]

    public init(_ status: HTTPResponseStatus, _ code: ErrorCode, _ message: String, details: [String] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var httpStatus: Int { Int(status.code) }

    /// The same answer for a missing and a wrong token, whatever the path: a 401 reveals nothing.
    static let unauthorized = HTTPError(
        .unauthorized, .unauthorized, "send the server's token as `Authorization: Bearer <token>`")

    /// What the server answers for an error that is not an `APIError`: a bug, said as such.
    static func unexpected(_ error: any Error, by server: String) -> HTTPError {
        HTTPError(.internalServerError, .internalError, "\(server) failed to answer: \(error)")
    }
}

extension APIError {
    /// The one place an error becomes a response.
    public var response: HTTPResponse {
        let status = HTTPResponseStatus(statusCode: httpStatus)
        var response =
            (try? HTTPResponse.json(body, status: status))
            ?? HTTPResponse(status: status, contentType: "text/plain", body: Array(message.utf8))
        if status == .unauthorized { response.headers.add(name: "WWW-Authenticate", value: "Bearer") }
        return response
    }
}

extension HTTPResponse {
    /// A JSON response in the wire encoding every Quiesce component shares.
    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> HTTPResponse {
        HTTPResponse(
            status: status, contentType: "application/json", body: try QuiesceJSON.encode(value))
    }
}
