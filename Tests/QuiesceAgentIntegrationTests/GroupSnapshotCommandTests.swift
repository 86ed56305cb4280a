import Foundation
import QuiesceAPI
import QuiesceTestSupport
import Testing

/// `quiesce snapshot` against simulated agents: the protocol, the policies, deadlines, the
/// group command, the reports, and a coordinator that dies.
@Suite("quiesce snapshot")
struct GroupSnapshotCommandTests {
    /// Pushes a config and scripts to every agent, so each can reach application consistency.
    private func configure(_ fleet: SimulatedFleet, inventory: String) async throws {
        let files = try PushCommandTests.Files(fleet)
        let push = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        #expect(push.status == 0, "\(push.stdout)\(push.stderr)")
    }

    private static func members(_ report: [String: Any]) -> [String: [String: Any]] {
        Dictionary(
            uniqueKeysWithValues: (report["members"] as? [[String: Any]] ?? []).map {
                ($0["name"] as? String ?? "", $0)
            })
    }

    /// Every agent's session is over and nothing is frozen.
    private func everyoneReleased(_ fleet: SimulatedFleet, count: Int) async throws -> Bool {
        for index in 0..<count {
            let version = try await fleet.agent(index).send("GET", "/v1/version", token: SimulatedFleet.token).json()
            if version["frozen"] as? Bool != false || version["activeSession"] != nil { return false }
        }
        return true
    }

    @Test func aHealthyGroupIsCapturedAtOneCutWithEveryReport() async throws {
        let fleet = try await SimulatedFleet(count: 10, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 10)
        try await configure(fleet, inventory: inventory)
        let html = fleet.directory.url("timeline.html")

        let result = try await fleet.coordinator([
            "snapshot", "--fleet", inventory, "--group", "all", "--json", "--report", html,
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = try result.json()
        #expect(report["status"] as? String == "succeeded")
        #expect(report["consistency"] as? String == "applicationConsistent")
        #expect((report["freezeSkewMs"] as? Double).map { $0 >= 0 } == true)
        let cut = try #require(report["cut"] as? [String: Any])
        #expect(cut["shown"] as? Bool == true, "\(cut)")
        #expect((cut["coordinatorWindowMs"] as? Double ?? 0) > 0)
        let members = Self.members(report)
        #expect(members.count == 10)
        // Times on the wire are UTC with microseconds: as strings they sort as times do.
        let planned = try #require(report["plannedFreezeAt"] as? String)
        for (name, member) in members {
            #expect((member["frozenAt"] as? String ?? "") >= planned, "\(name) froze before the agreed instant")
            #expect(member["status"] as? String == "succeeded", "\(name)")
            #expect(member["consistency"] as? String == "applicationConsistent")
            #expect(member["frozenMs"] as? Double != nil && (member["errors"] as? [Any])?.isEmpty == true)
            #expect(member["heldThroughSnapshot"] as? Bool == true)
        }
        #expect(
            (report["phases"] as? [[String: Any]])?.compactMap { $0["phase"] as? String } == [
                "preflight", "prepare", "freeze", "snapshot", "thaw", "finish",
            ])
        #expect(try await everyoneReleased(fleet, count: 10))

        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg") && page.contains("a9") && page.contains("consistent cut"))
        #expect(
            !page.contains("src=") && !page.contains("<link") && !page.contains("<script"), "the page needs no network")

        let history = try await fleet.coordinator(["history", "--kind", "snapshot", "--json"])
        let runs = try #require(try history.json()["runs"] as? [[String: Any]])
        #expect(runs.first?["status"] as? String == "succeeded")
        let shown = try await fleet.coordinator(["show", "\(runs.first?["id"] as? Int ?? 0)"])
        #expect(shown.stdout.contains("group all (requireAll): SUCCEEDED"), "\(shown.stdout)")
    }

    @Test func requireAllWithAnUnsafeScriptTouchesNobody() async throws {
        let fleet = try await SimulatedFleet(count: 3, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 3)
        try await configure(fleet, inventory: inventory)
        // a1's pre-script location is made unsafe after the push: its prepare can no longer reach
        // application consistency, which requireAll does not accept.
        chmod(fleet.scriptRoot + "/pre.sh", 0o777)
        let result = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(result.status == 1)
        let report = try result.json()
        #expect(report["status"] as? String == "failed")
        #expect((report["failure"] as? String)?.contains("nothing was touched") == true, "\(report["failure"] ?? "")")
        #expect((report["phases"] as? [[String: Any]])?.count == 1, "preflight only")
        #expect(try await everyoneReleased(fleet, count: 3))
    }

    @Test func aMemberMissingTheFreezeDeadlineCallsTheGroupOffAndEveryoneThaws() async throws {
        let fleet = try await SimulatedFleet(
            count: 4, faults: #"{"agents": {"2": {"latencyMs": {"freeze": 5000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 4, group: #"{"deadlines": {"freezeSeconds": 2}}"#)
        try await configure(fleet, inventory: inventory)
        let result = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(result.status == 1)
        let report = try result.json()
        #expect(
            (report["failure"] as? String)?.contains("freeze missed its deadline on a2") == true,
            "\(report["failure"] ?? "")")
        #expect(!((report["phases"] as? [[String: Any]]) ?? []).contains { $0["phase"] as? String == "snapshot" })
        let members = Self.members(report)
        #expect(members["a2"]?["status"] as? String == "leftOut")
        #expect(members["a0"]?["status"] as? String == "calledOff")
        // a2 froze late, after the coordinator gave up; its finish came first, so its lease or
        // the finish releases it.
        #expect(try await eventually(within: 20) { try await everyoneReleased(fleet, count: 4) })
    }

    @Test func bestEffortGoesOnWithoutAFailedMember() async throws {
        let fleet = try await SimulatedFleet(
            count: 3, faults: #"{"agents": {"1": {"fail": ["prepare"]}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(count: 3)
        try await configure(fleet, inventory: inventory)
        let result = try await fleet.coordinator([
            "snapshot", "--fleet", inventory, "--group", "all", "--policy", "bestEffort", "--json",
        ])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let members = Self.members(try result.json())
        #expect(members["a1"]?["status"] as? String == "leftOut")
        #expect((members["a1"]?["problems"] as? [String])?.first?.contains("SimulatedFault") == true)
        #expect(
            members["a0"]?["status"] as? String == "succeeded" && members["a2"]?["status"] as? String == "succeeded")
    }

    @Test func aGroupCommandRunsOnceWhileEveryoneIsFrozenAndItsFailureFailsTheGroup() async throws {
        let fleet = try await SimulatedFleet(count: 3, instantScripts: true)
        defer { fleet.stop() }
        let log = fleet.directory.url("command.log")
        let command = try fleet.directory.write(
            "snapshot-disks.sh",
            "#!/bin/sh\necho \"$QUIESCE_GROUP $QUIESCE_MEMBERS\" >> \(log)\n[ -f \(fleet.directory.url("break")) ] && "
                + "{ echo 'quota exceeded' >&2; exit 3; }\necho snap-42\n",
            mode: 0o700)
        let inventory = try fleet.inventory(count: 3, group: #"{"snapshotCommand": ["\#(command)"]}"#)
        try await configure(fleet, inventory: inventory)

        let good = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "all a0,a1,a2\n", "once for the whole group")
        #expect(Self.members(try good.json())["a1"]?["snapshotId"] as? String == "snap-42")

        _ = try fleet.directory.write("break", "")
        let bad = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(bad.status == 1)
        let failure = try bad.json()["failure"] as? String ?? ""
        #expect(failure.contains("exited with status 3") && failure.contains("quota exceeded"), "\(failure)")
        #expect(try await everyoneReleased(fleet, count: 3))
    }

    @Test func aVerifyCommandChecksTheTakenSnapshotAndItsFailureFailsTheRun() async throws {
        let fleet = try await SimulatedFleet(count: 2, instantScripts: true)
        defer { fleet.stop() }
        let log = fleet.directory.url("verify.log")
        let snapshot = try fleet.directory.write(
            "snapshot-disks.sh",
            "#!/bin/sh\n[ -f \(fleet.directory.url("break-snapshot")) ] && exit 3\necho snap-7\n", mode: 0o700)
        let verify = try fleet.directory.write(
            "restore-and-check.sh",
            """
            #!/bin/sh
            printf '%s|%s|%s|%s|%s\\n' "$QUIESCE_GROUP" "$QUIESCE_MEMBERS" "$QUIESCE_SNAPSHOT_A1" \\
                "$QUIESCE_SNAPSHOTS" "${QUIESCE_SESSION%%-*}" >> \(log)
            echo "restoring snap-7 on a scratch host"
            if [ -f \(fleet.directory.url("break-verify")) ]; then
                echo "3 of 120 rows point at missing files" >&2
                echo "hint: see the runbook" >&2
                exit 4
            fi
            echo "120 rows, every file present with its hash"
            """, mode: 0o700)
        let inventory = try fleet.inventory(
            count: 2, group: #"{"snapshotCommand": ["\#(snapshot)"], "verifyCommand": ["\#(verify)"]}"#)
        try await configure(fleet, inventory: inventory)
        let html = fleet.directory.url("timeline.html")

        let good = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let passed = try #require(try good.json()["verification"] as? [String: Any])
        #expect(passed["result"] as? String == "passed" && passed["exitCode"] as? Int == 0, "\(passed)")
        #expect((passed["outputTail"] as? String)?.hasSuffix("every file present with its hash") == true)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "all|a0,a1|snap-7|a0 snap-7\na1 snap-7\n|g\n")
        let text = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("verification: passed in "), "\(text.stdout)")
        #expect(text.stdout.contains("| 120 rows, every file present with its hash"))

        _ = try fleet.directory.write("break-verify", "")
        let bad = try await fleet.coordinator([
            "snapshot", "--fleet", inventory, "--group", "all", "--json", "--report", html,
        ])
        #expect(bad.status == 1, "a copy that does not restore is no backup")
        let report = try bad.json()
        #expect(report["status"] as? String == "failed")
        let failure = report["failure"] as? String ?? ""
        #expect(
            failure.hasPrefix("restore verification failed:") && failure.contains("exited with status 4")
                && failure.contains("it said: 3 of 120 rows point at missing files") && !failure.contains("hint"),
            "\(failure)")
        let failed = try #require(report["verification"] as? [String: Any])
        #expect(failed["result"] as? String == "failed" && failed["exitCode"] as? Int == 4)
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("3 of 120 rows point at missing files"))
        let history = try await fleet.coordinator(["history", "--json"])
        let runs = try #require(try history.json()["runs"] as? [[String: Any]])
        #expect((runs.first?["summary"] as? String)?.contains("verification failed") == true, "\(runs.first ?? [:])")

        _ = try fleet.directory.write("break-snapshot", "")
        let untaken = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "all", "--json"])
        #expect(untaken.status == 1)
        let notRun = try #require(try untaken.json()["verification"] as? [String: Any])
        #expect(notRun["result"] as? String == "notRun" && notRun["reason"] as? String != nil, "\(notRun)")
        #expect(
            try String(contentsOfFile: log, encoding: .utf8).components(separatedBy: "all|").count == 4,
            "three runs verified, the untaken snapshot not")
        #expect(try await everyoneReleased(fleet, count: 2))
    }

    @Test func aCoordinatorKilledMidFreezeLeavesAnInterruptedRunAndAgentsReleaseThemselves() async throws {
        let fleet = try await SimulatedFleet(
            count: 2, faults: #"{"agents": {"0": {"latencyMs": {"snapshot": 4000}}}}"#, instantScripts: true)
        defer { fleet.stop() }
        let inventory = try fleet.inventory(
            count: 2, group: #"{"deadlines": {"freezeSeconds": 3, "snapshotSeconds": 10}}"#)
        try await configure(fleet, inventory: inventory)
        let coordinator = try AgentBinary.start(
            ["snapshot", "--fleet", inventory, "--group", "all", "--state", fleet.directory.url("state")],
            program: "quiesce")
        // Wait until both members are frozen, then kill the coordinator without warning: on a
        // thread of its own, so that a busy cooperative pool cannot delay the kill past the freeze.
        let agents = [fleet.agent(0), fleet.agent(1)]
        let killedWhileFrozen = try await onBlockingThread {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                let versions = try agents.map {
                    try $0.sendBlocking("GET", "/v1/version", token: SimulatedFleet.token).json()
                }
                if versions.allSatisfy({ $0["frozen"] as? Bool == true }) {
                    kill(coordinator.process.processIdentifier, SIGKILL)
                    return true
                }
                usleep(20_000)
            }
            return false
        }
        #expect(killedWhileFrozen, "both members were seen frozen within 10 s")
        kill(coordinator.process.processIdentifier, SIGKILL)
        try await onBlockingThread { coordinator.process.waitUntilExit() }

        let history = try await fleet.coordinator(["history", "--json"])
        let runs = try #require(try history.json()["runs"] as? [[String: Any]])
        #expect(
            runs.first?["kind"] as? String == "snapshot" && runs.first?["status"] as? String == "interrupted", "\(runs)"
        )
        // Lease: freeze + snapshot deadlines + 5 s without a request.
        #expect(try await eventually(within: 30) { try await everyoneReleased(fleet, count: 2) })
    }
}
