import Foundation
import QuiesceTestSupport
import Testing

/// The command line is a contract other tools drive: exit codes, the JSON report's shape, and
/// errors that name what to fix.
@Suite("quiesce-agent command line")
struct CommandLineTests {
    /// A fixture with freezing off, so it needs no root and no mounts.
    private func unfrozenFixture(pre: String = "echo ready", post: String = "echo done") throws -> (
        FrameworkFixture, String
    ) {
        var fixture = try FrameworkFixture(pre: pre, post: post, mounts: nil)
        fixture.config["fsFreezeEnabled"] = false
        try fixture.writeConfig()
        return (fixture, try fixture.writeSettings())
    }

    @Test func runOnceJSONHasTheContractedShapeAndExitsZero() async throws {
        let (fixture, settings) = try unfrozenFixture()
        defer { fixture.remove() }
        let result = try await AgentBinary.run(["run-once", "--settings", settings, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try result.json()
        #expect(report["status"] as? String == "succeeded")
        #expect(report["consistency"] as? String == "applicationConsistent")
        #expect((report["errors"] as? [Any])?.isEmpty == true)
        for key in ["preScript", "postScript"] {
            let script = try #require(report[key] as? [String: Any])
            #expect(script["result"] as? String == "succeeded")
            #expect(script["attempts"] as? Int == 1)
            #expect(script["exitCode"] as? Int == 0)
            #expect(script["durationMs"] is Double || script["durationMs"] is Int)
            #expect(script["stderrTail"] as? String == "")
        }
        #expect((report["preScript"] as? [String: Any])?["stdoutTail"] as? String == "ready\n")
        let freeze = try #require(report["freeze"] as? [String: Any])
        #expect(freeze["enabled"] as? Bool == false)
        #expect(freeze["mounts"] as? [String] == [])
        #expect(freeze["heldThroughSnapshot"] as? Bool == false)
        let snapshot = try #require(report["snapshot"] as? [String: Any])
        #expect(snapshot["taken"] as? Bool == true)
        #expect(snapshot["provider"] as? String == "none")
    }

    @Test func aFailedBackupExitsOneAndTheTextReportShowsTheScriptsWords() async throws {
        var (fixture, settings) = try unfrozenFixture(pre: "echo 'ERROR 1045: access denied' >&2; exit 2")
        defer { fixture.remove() }
        fixture.config["continueBackupOnFailure"] = false
        try fixture.writeConfig()
        let result = try await AgentBinary.run(["run-once", "--settings", settings])
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("Backup failed: none, no snapshot"))
        #expect(result.stdout.contains("Pre-ScriptExecutionFailed (300) during preScript"))
        #expect(result.stdout.contains("  | ERROR 1045: access denied"))
        settings = try fixture.writeSettings()
        let json = try await AgentBinary.run(["run-once", "--settings", settings, "--json"])
        #expect(json.status == 1)
        #expect(try json.json()["status"] as? String == "failed")
    }

    @Test func unusableSettingsOrArgumentsExitTwoAndSayWhy() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bad = try directory.write("agent.json", #"{"freeze": {"timeoutSeconds": "60"}, "snapshots": {}}"#)
        let result = try await AgentBinary.run(["run-once", "--settings", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("`freeze.timeoutSeconds` must be an integer ≥ 1, found string \"60\""))
        #expect(result.stderr.contains("unknown key `snapshots`"))
        #expect(result.stdout.isEmpty)

        let missing = try await AgentBinary.run(["check", "--settings", directory.url("nope.json")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.json"))

        let writable = try directory.write("loose.json", "{}", mode: 0o666)
        let loose = try await AgentBinary.run(["check", "--settings", writable])
        #expect(loose.status == 2)
        #expect(loose.stderr.contains("chmod go-w"))

        let unknownFlag = try await AgentBinary.run(["run-once", "--frobnicate"])
        #expect(unknownFlag.status == 2)
        #expect(unknownFlag.stderr.contains("--frobnicate"))
    }

    @Test func checkExitsZeroOnlyWhenTheNextBackupIsApplicationConsistent() async throws {
        let (fixture, settings) = try unfrozenFixture()
        defer { fixture.remove() }
        let good = try await AgentBinary.run(["check", "--settings", settings, "--json"])
        #expect(good.status == 0, "\(good.stdout)")
        #expect(try good.json()["predictedConsistency"] as? String == "applicationConsistent")
        try fixture.directory.chmod("post.sh", 0o775)
        let bad = try await AgentBinary.run(["check", "--settings", settings])
        #expect(bad.status == 1)
        #expect(bad.stdout.hasPrefix("Next backup: crashConsistent"))
        #expect(bad.stdout.contains("InsufficientPermissionforPost-Script (307)"))
        #expect(bad.stdout.contains("chmod 0700"))
        #expect(fixture.environment(of: "pre.sh") == nil, "check runs nothing")
    }

    @Test func thePluginConfigFlagOverridesTheSettings() async throws {
        let (fixture, settings) = try unfrozenFixture()
        defer { fixture.remove() }
        let result = try await AgentBinary.run([
            "check", "--settings", settings, "--plugin-config", fixture.directory.url("absent.json"), "--json",
        ])
        let report = try result.json()
        #expect(report["configState"] as? String == "notConfigured")
        #expect(result.status == 1)
    }
}
