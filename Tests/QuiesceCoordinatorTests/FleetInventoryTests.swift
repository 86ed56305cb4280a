import Foundation
import QuiesceAPI
import QuiesceCoordinator
import Testing

@Suite("Fleet inventory")
struct FleetInventoryTests {
    private func parse(_ text: String, files: Set<String> = ["/t/default.token", "/t/db.token"]) throws(FleetInventory
        .LoadError) -> FleetInventory
    {
        try FleetInventory.parse(
            Array(text.utf8), path: "fleet.json", resolve: { "/t/" + $0 }, fileExists: { files.contains($0) })
    }

    private func problems(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.problems
        }
    }

    @Test func theExampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let inventory = try FleetInventory.load(path: root.appendingPathComponent("fleet.example.json").path)
        #expect(inventory.vms.map(\.name) == ["db-1", "db-2", "app-1", "warehouse-1"])
        #expect(inventory.groups["payments"]?.policy == .requireAll)
        #expect(inventory.groups["payments"]?.deadlines.freezeSeconds == 5)
        #expect(inventory.groups["analytics"]?.deadlines.freezeSeconds == 10, "defaults fill what a group leaves out")
        #expect(inventory.vms[0].tokenFile?.hasSuffix("deploy/coordinator/db-1.token") == true)
        #expect(
            inventory.vms[1].tokenFile?.hasSuffix("deploy/coordinator/default.token") == true,
            "defaults.tokenFile applies")
        let payments = try #require(inventory.groups["payments"])
        #expect(payments.schedule?.description == "30 2 * * * (Europe/Berlin)")
        #expect(payments.retention == (try RetentionPolicy(keepLast: 7, keepDays: 30)))
        #expect(inventory.groups["analytics"]?.schedule == nil)
        #expect(inventory.sweepSchedule?.expression == "*/15 * * * *")
        #expect(inventory.webhooks.map(\.url) == ["https://alerts.payments.internal/quiesce"])
        #expect(
            inventory.webhooks.first?.kinds == [.snapshotFailed, .snapshotDowngraded, .snapshotInterrupted, .vmDrifted])
    }

    @Test func everyProblemIsReportedWithItsLocation() {
        let found = problems(
            """
            {"defaults": {"tokenFile": "default.token"},
             "groups": {"g": {"policy": "most", "verifyCommand": ["check.sh"], "deadlines": {"verifySeconds": 0}}},
             "vms": [{"name": "a", "address": "10.0.0.1:7710", "groups": ["g"]},
                     {"name": "a", "address": "nowhere", "groups": ["h"], "tokenFile": "missing.token", "colour":
                     "red"},
                     {"address": "x:0"}],
             "extra": 1}
            """)
        let text = found.joined(separator: "\n")
        #expect(text.contains("`groups.g.policy` must be \"requireAll\" or \"bestEffort\", found \"most\""))
        #expect(text.contains("`groups.g.verifyCommand` must start with an absolute program path"))
        #expect(text.contains("`groups.g.deadlines.verifySeconds`"))
        #expect(text.contains("`vms[1].name`: \"a\" is already the name of vms[0]"))
        #expect(text.contains("`vms[1].address` must be \"host:port\""))
        #expect(text.contains("`vms[1].groups` names \"h\", which is not in `groups`"))
        #expect(text.contains("unknown key `vms[1].colour`"))
        #expect(text.contains("`vms[1].tokenFile`: /t/missing.token does not exist"))
        #expect(text.contains("required key `vms[2].name` is missing"))
        #expect(text.contains("`vms[2].address` must be \"host:port\" with a port from 1 to 65535, found \"x:0\""))
        #expect(text.contains("unknown key `extra`"))
    }

    @Test func aVMNeedsATokenOrTheCoordinatorsCertificate() {
        let found = problems(#"{"vms": [{"name": "a", "address": "h:1"}]}"#)
        #expect(
            found == [
                "`vms[0].tokenFile` is missing and there is no `defaults.tokenFile` (or, for enrolled agents, a "
                    + "`tls.certificateFile` of the coordinator's)"
            ])
        let enrolled = try? parse(
            #"{"defaults": {"tls": {"caFile": "ca.pem", "certificateFile": "c.pem", "keyFile": "c.key"}}, "#
                + #""vms": [{"name": "a", "address": "h:1"}]}"#, files: ["/t/ca.pem", "/t/c.pem", "/t/c.key"])
        #expect(enrolled?.vms.first?.tokenFile == nil && enrolled?.vms.first?.tls?.certificateFile == "/t/c.pem")
        #expect(problems("[]").first?.contains("must be a JSON object") == true)
        #expect(problems("{").first?.contains("not valid JSON") == true)
        #expect(problems("{}").first?.contains("`vms` is required") == true)
    }

    @Test func selectorsCombine() throws {
        let inventory = try parse(
            """
            {"defaults": {"tokenFile": "default.token"}, "groups": {"p": {}, "q": {}},
             "vms": [{"name": "a", "address": "h:1", "groups": ["p"], "labels": {"role": "db"}},
                     {"name": "b", "address": "h:2", "groups": ["p"], "labels": {"role": "app"}},
                     {"name": "c", "address": "h:3", "groups": ["q"], "labels": {"role": "db"}}]}
            """)
        #expect(try FleetSelection().select(from: inventory).map(\.name) == ["a", "b", "c"])
        #expect(try FleetSelection(groups: ["p"]).select(from: inventory).map(\.name) == ["a", "b"])
        #expect(try FleetSelection(groups: ["p"], labels: ["role=db"]).select(from: inventory).map(\.name) == ["a"])
        #expect(try FleetSelection(names: ["c", "b"]).select(from: inventory).map(\.name) == ["b", "c"])
        #expect(throws: FleetSelection.Problem.self) { try FleetSelection(groups: ["zz"]).select(from: inventory) }
        #expect(throws: FleetSelection.Problem.self) { try FleetSelection(names: ["zz"]).select(from: inventory) }
        #expect(throws: FleetSelection.Problem.self) { try FleetSelection(labels: ["role"]).select(from: inventory) }
    }
}
