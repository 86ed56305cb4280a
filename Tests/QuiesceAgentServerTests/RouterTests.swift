import NIOHTTP1
import QuiesceHTTPServer
import Testing

@Suite("Router")
struct RouterTests {
    @Test func pathParametersArePercentDecoded() {
        let route = Route(.GET, "/vms/:name") { _ in HTTPResponse(contentType: "text/plain", body: []) }
        #expect(route.match("/vms/db%201") == ["name": "db 1"])
        #expect(route.match("/vms/a+b") == ["name": "a+b"], "a plus is a space in a query only")
        #expect(route.match("/vms/100%") == ["name": "100%"], "a lone percent stays as it is")
        #expect(route.match("/vms/%E2%9C%93") == ["name": "✓"], "bytes are UTF-8")
        #expect(route.match("/vms") == nil && route.match("/groups/a") == nil)
    }
}
