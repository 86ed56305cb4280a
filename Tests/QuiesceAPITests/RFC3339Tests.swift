import Foundation
import Testing

@testable import QuiesceAPI

@Suite("RFC 3339 times")
struct RFC3339Tests {
    @Test func theFastPathReadsWhatTheGeneralParserReads() throws {
        let general = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for text in [
            "2026-12-03T10:00:00.123456Z", "1970-01-01T00:00:00.000Z", "2000-02-29T23:59:59.999999Z",
            "2026-12-04T07:11:25.5Z", "1969-07-20T20:17:40.000001Z", "2400-03-01T00:00:00.000Z",
        ] {
            let fast = try #require(QuiesceJSON.date(text), "\(text)")
            let expected = try Date(text, strategy: general)
            #expect(abs(fast.timeIntervalSince(expected)) < 1e-6, "\(text): \(fast) vs \(expected)")
        }
        #expect(QuiesceJSON.date("2026-12-03T10:00:00Z") == Date(timeIntervalSince1970: 1_796_292_000))
        // What the fast path leaves to the general parser is still read.
        #expect(QuiesceJSON.date("2026-12-03T11:00:00.000+01:00") == Date(timeIntervalSince1970: 1_796_292_000))
        for bad in ["2026-13-01T10:00:00Z", "yesterday", ""] {
            #expect(QuiesceJSON.date(bad) == nil, "\(bad)")
        }
        // The fast path itself takes only real times; the lenient general parser has the rest.
        for odd in ["2026-02-30T10:00:00Z", "2026-12-03T24:00:00Z", "2026-12-03T10:61:00Z", "2026-12-03T10:00:60Z"] {
            #expect(RFC3339.utcDate(odd) == nil, "\(odd)")
        }
        let now = Date()
        let decoded = try QuiesceJSON.decoder().decode([Date].self, from: QuiesceJSON.encoder().encode([now]))
        #expect(abs(decoded[0].timeIntervalSince(now)) < 1e-6, "microseconds survive the wire")
    }
}
