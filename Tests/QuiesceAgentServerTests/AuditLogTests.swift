import Foundation
import QuiesceAgentServer
import QuiesceTestSupport
import Testing

/// Anyone who can connect can make audit entries: they stay bounded on disk and in memory.
@Suite("Audit log")
struct AuditLogTests {
    private func entry(path: String = "/v1/plugin-config") -> AuditLog.Entry {
        AuditLog.Entry(time: Date(), peer: "127.0.0.1:1", method: "PUT", path: path, status: 401, bodySHA256: nil)
    }

    @Test func aLongPathIsCutAndSaysHowLongItWas() {
        let cut = entry(path: "/" + String(repeating: "x", count: 8192)).path
        #expect(cut.count < 300 && cut.hasSuffix("...(8193 bytes)"), "\(cut.count)")
    }

    @Test func whileFrozenAtMostTheMaximumWaitsAndTheRestIsCounted() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = AuditLog(path: directory.url("log/audit.log"))
        for _ in 0..<(AuditLog.maximumPending + 5) { log.record(entry(), frozen: true) }
        #expect(log.pendingCount == AuditLog.maximumPending + 1)
        log.flush()
        #expect(log.pendingCount == 0)
        let lines = try directory.read("log/audit.log").split(separator: "\n")
        #expect(lines.count == AuditLog.maximumPending + 1)
        #expect(lines.last?.contains(#""droppedEntries":5"#) == true, "\(lines.last ?? "")")
    }
}
