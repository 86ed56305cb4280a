import NIOHTTP1
import QuiesceAPI
import QuiesceAgentServer
import QuiesceHTTPServer
import QuiesceTestSupport
import Testing

/// Handlers throw; the server renders: an `APIError` as its own status and code, anything else
/// as a 500 that says it is the agent's own failure.
@Suite("Error rendering")
struct ErrorRenderingTests {
    private struct Teapot: APIError {
        var httpStatus: Int { 418 }
        var code: ErrorCode { ErrorCode(rawValue: "Teapot") }
        var message: String { "short and stout" }
        var details: [String] { ["tip me over"] }
    }

    private struct Unexpected: Error, CustomStringConvertible {
        var description: String { "the unexpected happened" }
    }

    @Test func anAPIErrorAnswersWithItsOwnStatusCodeAndDetails() async throws {
        let server = try await ServerFixture.start(extraRoutes: [Route(.GET, "/v1/teapot") { _ in throw Teapot() }])
        defer { server.stop() }
        let response = try await server.send("GET", "/v1/teapot")
        #expect(response.status == 418)
        let body = try response.json()
        #expect(body["code"] as? String == "Teapot" && body["message"] as? String == "short and stout")
        #expect(body["details"] as? [String] == ["tip me over"])
    }

    @Test func anyOtherErrorIsA500WithTheInternalCodeNotABadRequest() async throws {
        let server = try await ServerFixture.start(extraRoutes: [Route(.GET, "/v1/explode") { _ in throw Unexpected() }]
        )
        defer { server.stop() }
        let response = try await server.send("GET", "/v1/explode")
        #expect(response.status == 500)
        let body = try response.json()
        #expect(body["code"] as? String == "InternalError")
        #expect((body["message"] as? String)?.contains("the unexpected happened") == true)
    }
}
