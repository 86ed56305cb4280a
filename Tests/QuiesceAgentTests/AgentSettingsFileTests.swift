import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// The settings file names what the agent runs as root: it is guarded like the framework's own.
@Suite("Agent settings file")
struct AgentSettingsFileTests {
    private func loadProblem(_ path: String) -> String? {
        do {
            _ = try AgentSettings.load(path: path)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func settingsOthersCanWriteAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("agent.json", "{}", mode: 0o666)
        #expect(loadProblem(path)?.contains("chmod go-w \(path)") == true)
        try directory.chmod("agent.json", 0o600)
        #expect(loadProblem(path) == nil)
    }

    @Test func settingsInADirectoryOthersCanWriteAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("open/agent.json", "{}")
        try directory.chmod("open", 0o777)
        let problem = loadProblem(path) ?? ""
        #expect(problem.contains("directory \(directory.url("open")) has mode 0777"), "\(problem)")
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func settingsOwnedBySomeoneElseAreRefused() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("agent.json", "{}")
        try directory.chown("agent.json", uid: 65534)
        #expect(loadProblem(path)?.contains("is owned by uid 65534, must be owned by uid 0") == true)
    }
}
