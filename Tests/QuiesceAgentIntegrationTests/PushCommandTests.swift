import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce push`, `history` and `show` against simulated agents, healthy and broken.
@Suite("quiesce push")
struct PushCommandTests {
    /// A config for the simulated fleet's shared script root, and two scripts.
    struct Files {
        var config: String
        var pre: String
        var post: String
        var preBody = "#!/bin/sh\necho quiescing\n"

        init(_ fleet: SimulatedFleet, configText: String? = nil) throws {
            let root = fleet.scriptRoot
            config = try fleet.directory.write(
                "push/config.json",
                configText
                    ?? #"{"preScriptLocation": "\#(root)/pre.sh", "postScriptLocation": "\#(root)/post.sh", "#
                    + #""timeoutInSeconds": 20}"#
            )
            pre = try fleet.directory.write("push/pre.sh", preBody, mode: 0o700)
            post = try fleet.directory.write("push/post.sh", "#!/bin/sh\necho released\n", mode: 0o700)
        }

        var arguments: [String] { ["--plugin-config", config, "--pre", pre, "--post", post] }
    }

    private static func byName(_ report: [String: Any]) -> [String: [String: Any]] {
        Dictionary(
            uniqueKeysWithValues: (report["vms"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) })
    }

    /// Every kind of broken VM at once; each is reported for what it is and the healthy ones get the files.
    @Test func aPushReportsEveryVMForWhatItIs() async throws {
        let faults = #"""
            {"agents": {
              "1": {"latencyMs": {"/v1/bundle": 300}},
              "2": {"refuseConnection": true},
              "3": {"hang": ["/v1/bundle"]},
              "4": {"garbage": ["/v1/bundle"]},
              "5": {"withoutRoutes": ["/v1/bundle"], "fail": ["/v1/scripts/post"]},
              "7": {"withoutRoutes": ["/v1/bundle"]}}}
            """#
        let fleet = try await SimulatedFleet(
            count: 8, faults: faults, instantScripts: true, ready: [0, 1, 3, 4, 5, 6, 7])
        defer { fleet.stop() }
        _ = try fleet.directory.write("wrong.token", "not-the-token\n")
        let inventory = try fleet.inventory(count: 8, timeoutSeconds: 2, extra: [6: #""tokenFile": "wrong.token""#])
        let files = try Files(fleet)

        let result = try await fleet.coordinator(["push", "--fleet", inventory, "--json"] + files.arguments)
        #expect(result.status == 1, "\(result.stderr)")
        let report = try result.json()
        let vms = Self.byName(report)
        #expect(vms["a0"]?["status"] as? String == "pushed")
        #expect(vms["a1"]?["status"] as? String == "pushed", "slow is not failed")
        #expect(vms["a2"]?["status"] as? String == "unreachable")
        #expect((vms["a2"]?["problem"] as? String)?.contains("refused") == true)
        #expect(vms["a3"]?["status"] as? String == "unreachable")
        #expect((vms["a3"]?["problem"] as? String)?.contains("timeout") == true)
        #expect(vms["a4"]?["status"] as? String == "failed")
        #expect((vms["a4"]?["problem"] as? String)?.contains("not what this coordinator understands") == true)
        // An agent without the bundle route gets the files one by one, and a failure part-way says so.
        #expect(vms["a5"]?["status"] as? String == "failed")
        #expect(
            (vms["a5"]?["problem"] as? String)?.contains("has the new pluginConfig and preScript but not the rest")
                == true)
        #expect(vms["a7"]?["status"] as? String == "pushed")
        #expect((vms["a7"]?["written"] as? [Any])?.count == 3)
        #expect(vms["a6"]?["status"] as? String == "failed")
        #expect((vms["a6"]?["problem"] as? String)?.contains("refused the token (401)") == true)
        let summary = try #require(report["summary"] as? [String: Int])
        #expect(summary["pushed"] == 3 && summary["failed"] == 3 && summary["unreachable"] == 2)
        let config = try String(contentsOfFile: fleet.home(0) + "/VMSnapshotScriptPluginConfig.json", encoding: .utf8)
        #expect(config == (try String(contentsOfFile: files.config, encoding: .utf8)))
        #expect(
            !FileManager.default.fileExists(atPath: fleet.home(6) + "/VMSnapshotScriptPluginConfig.json"),
            "401 wrote nothing")

        // The same push again changes nothing on the VMs that have it.
        let again = try await fleet.coordinator(
            ["push", "--fleet", inventory, "--json", "--vm", "a0"] + files.arguments)
        #expect(again.status == 0)
        #expect(Self.byName(try again.json())["a0"]?["status"] as? String == "unchanged")

        // The history has both pushes, and each VM's own result.
        let history = try await fleet.coordinator(["history", "--json", "--vm", "a5"])
        let runs = try #require(try history.json()["runs"] as? [[String: Any]])
        #expect(runs.count == 1 && (runs[0]["vmResult"] as? [String: Any])?["status"] as? String == "failed")
        let shown = try await fleet.coordinator(["show", "1", "--vm", "a3"])
        #expect(shown.status == 0 && shown.stdout.contains("a3: unreachable"), "\(shown.stdout)\(shown.stderr)")
        let missing = try await fleet.coordinator(["show", "99"])
        #expect(missing.status == 2 && missing.stderr.contains("there is no run 99"))
    }

    @Test func anInvalidConfigIsPushedNowhere() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 2)
        let files = try Files(fleet, configText: #"{"preScriptLocation": "relative/pre.sh", "timeoutInSeconds": "30"}"#)
        let result = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("nothing was pushed"))
        #expect(result.stderr.contains("postScriptLocation"), "every problem is listed: \(result.stderr)")
        #expect(result.stderr.contains("timeoutInSeconds"))
        #expect(result.stderr.contains("absolute path"))
        for index in 0..<2 {
            #expect(!FileManager.default.fileExists(atPath: fleet.home(index) + "/VMSnapshotScriptPluginConfig.json"))
        }
        let history = try await fleet.coordinator(["history", "--json"])
        #expect((try history.json()["runs"] as? [Any])?.isEmpty == true, "a push that never started is not a run")
    }

    @Test func aFailingCanaryStopsThePushThere() async throws {
        // The canary takes the files but its compliance check answers garbage.
        let fleet = try await SimulatedFleet(
            count: 4, faults: #"{"agents": {"0": {"garbage": ["/v1/compliance"]}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 4)
        let files = try Files(fleet)
        let result = try await fleet.coordinator(
            ["push", "--fleet", inventory, "--canary", "1", "--json"] + files.arguments)
        #expect(result.status == 1)
        let report = try result.json()
        #expect((report["canary"] as? [String: Any])?["passed"] as? Bool == false)
        let vms = Self.byName(report)
        #expect(vms["a0"]?["status"] as? String == "failed")
        for name in ["a1", "a2", "a3"] { #expect(vms[name]?["status"] as? String == "notAttempted") }
        for index in 1..<4 {
            #expect(
                !FileManager.default.fileExists(atPath: fleet.home(index) + "/VMSnapshotScriptPluginConfig.json"),
                "agent \(index) was pushed to")
        }

        // A healthy canary lets the push through to everyone.
        let healthy = try await fleet.coordinator(
            ["push", "--fleet", inventory, "--canary", "1", "--vm", "a1", "--vm", "a2", "--vm", "a3"] + files.arguments)
        #expect(healthy.status == 0, "\(healthy.stdout)\(healthy.stderr)")
        #expect(healthy.stdout.contains("canary passed (a1)"))
    }

    @Test func aVMInASnapshotSessionIsSkippedAndASweepSeesDrift() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 2)
        let files = try Files(fleet)
        #expect(try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments).status == 0)

        let session = try await fleet.agent(1).send(
            "POST", "/v1/sessions", token: SimulatedFleet.token,
            body: Array(#"{"id": "held", "leaseSeconds": 30}"#.utf8))
        #expect(session.status == 200 || session.status == 201)
        let during = try await fleet.coordinator(["push", "--fleet", inventory, "--json"] + files.arguments)
        #expect(during.status == 1)
        #expect(Self.byName(try during.json())["a1"]?["status"] as? String == "skipped")
        _ = try await fleet.agent(1).send(
            "POST", "/v1/sessions/held/finish", token: SimulatedFleet.token, body: Array("{}".utf8))

        // Someone edits the pre-script by hand: the sweep names the file and the push it came from
        // (run 2 for a0; a1 was skipped there, so its files are from run 1).
        try "#!/bin/sh\necho edited by hand\n".write(
            toFile: fleet.scriptRoot + "/pre.sh", atomically: false, encoding: .utf8)
        let sweep = try await fleet.coordinator(["sweep", "--fleet", inventory, "--json"])
        #expect(sweep.status == 1)
        let problems = Self.byName(try sweep.json())["a0"]?["problems"] as? [String] ?? []
        #expect(
            problems.contains { $0.contains("preScript") && $0.contains("changed since push run 2") }, "\(problems)")
        let skipped = Self.byName(try sweep.json())["a1"]?["problems"] as? [String] ?? []
        #expect(skipped.contains { $0.contains("changed since push run 1") }, "\(skipped)")
    }
}
