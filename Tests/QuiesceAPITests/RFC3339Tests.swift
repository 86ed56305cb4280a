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
        let decoded = try QuiesceJSON.decode([Date].self, from: QuiesceJSON.encode([now]))
        #expect(abs(decoded[0].timeIntervalSince(now)) < 1e-6, "microseconds survive the wire")
    }

    @Test func writtenTimesAreWhatTheGeneralFormatterWritesToTheMicrosecond() throws {
        let wholeSeconds = Date.ISO8601FormatStyle()
        var generator = SystemRandomNumberGenerator()
        // From 1583: before it Foundation counts in the Julian calendar, RFC 3339 never does.
        let samples =
            [0, -1, -0.000_001, 951_782_400, 1_796_292_000.123_456, 4_102_444_799.999_999, -12_212_553_600]
            + (0..<2000).map { _ in Double.random(in: -2_000_000_000...4_000_000_000, using: &generator) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            let fast = try #require(RFC3339.utcString(date), "\(seconds)")
            let microseconds = (date.timeIntervalSince1970 * 1_000_000).rounded()
            let whole = (microseconds / 1_000_000).rounded(.down)
            let fraction = String(Int(microseconds - whole * 1_000_000))
            let expected =
                "\(Date(timeIntervalSince1970: whole).formatted(wholeSeconds).dropLast())."
                + "\(String(repeating: "0", count: 6 - fraction.count))\(fraction)Z"
            #expect(fast == expected, "\(seconds)")
            #expect(QuiesceJSON.date(fast).map { abs($0.timeIntervalSince(date)) < 1e-6 } == true, "\(fast)")
        }
        #expect(RFC3339.utcString(.distantPast) == nil && QuiesceJSON.timestamp(.distantPast).hasSuffix("Z"))
        #expect(RFC3339.utcString(Date(timeIntervalSince1970: -62_135_596_800)) == nil, "year 1: Foundation's")
    }
}
