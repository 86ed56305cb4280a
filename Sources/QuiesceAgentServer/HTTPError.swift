import FoundationEssentials
import NIOHTTP1
import QuiesceAPI

/// An error a handler throws; the server turns it into a JSON `APIErrorBody` with this status.
/// Handlers throw, and this is the one place errors become responses.
public struct HTTPError: Error, Sendable {
    public var status: HTTPResponseStatus
    public var body: APIErrorBody

    public init(_ status: HTTPResponseStatus, _ code: ErrorCode, _ message: String, details: [String]? = nil) {
        self.status = status
        body = APIErrorBody(code: code, message: message, details: details)
    }

    /// The same answer for a missing and a wrong token, whatever the path: a 401 reveals nothing.
    static let unauthorized = HTTPError(
        .unauthorized, .unauthorized, "send the agent's token as `Authorization: Bearer <token>`")

    var response: HTTPResponse {
        var response = (try? HTTPResponse.json(body, status: status))
            ?? HTTPResponse(status: status, contentType: "text/plain", body: Array(body.message.utf8))
        if status == .unauthorized { response.headers.add(name: "WWW-Authenticate", value: "Bearer") }
        return response
    }
}

extension HTTPResponse {
    /// A JSON response in the wire encoding every Quiesce component shares.
    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) throws -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: Array(try QuiesceJSON.encoder().encode(value)))
    }
}
