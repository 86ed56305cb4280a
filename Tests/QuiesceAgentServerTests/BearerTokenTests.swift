import QuiesceAPI
import QuiesceAgentServer
import Testing

@Suite("Bearer token and loopback")
struct BearerTokenTests {
    @Test func onlyTheExactTokenIsAccepted() {
        let token = BearerToken(secret: "0123456789abcdef")
        #expect(token.accepts(authorization: "Bearer 0123456789abcdef"))
        for offered in [
            "Bearer 0123456789abcdeX", "Bearer 0123456789abcde", "Bearer 0123456789abcdef0", "bearer 0123456789abcdef",
            "0123456789abcdef",
            // 256 more bytes, all zero: a length compared in 8 bits would let this through.
            "Bearer 0123456789abcdef" + String(repeating: "\u{0}", count: 256),
        ] {
            #expect(!token.accepts(authorization: offered), "\(offered.prefix(40).debugDescription)")
        }
        #expect(!token.accepts(authorization: nil))
    }

    @Test func loopbackIsAnAddressNotAPrefix() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "localhost"] {
            #expect(Loopback.contains(host: host), "\(host)")
        }
        for host in [
            "127.evil.example", "127.0.0.1.example", "1127.0.0.1", "127.0.0", "127.0.0.256", "0.0.0.0", "10.0.0.1",
        ] {
            #expect(!Loopback.contains(host: host), "\(host)")
        }
    }
}
