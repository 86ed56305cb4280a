import Foundation
import QuiesceCoordinator
import QuiesceTestSupport
import Testing

/// `quiesce serve`'s dashboard, loaded in headless Chromium: every page, checked through the
/// document the browser built, with a screenshot of each (into `QUIESCE_SCREENSHOTS` when set,
/// which is how `scripts/screenshots.sh` refreshes the ones in docs/).
@Suite("Dashboard", .enabled(if: HeadlessChromium.enabled, Comment(rawValue: HeadlessChromium.missingReason)))
struct DashboardTests {
    @Test func everyPageShowsTheFleetAsTheHistoryHasIt() async throws {
        let fleet = try await SimulatedFleet(count: 3, instantScripts: true)
        defer { fleet.stop() }
        // Two groups: db answers, web has a VM nobody answers for (port 1 refuses).
        let vms = [
            ("a0", "db", fleet.base), ("a1", "db", fleet.base + 1), ("a2", "web", fleet.base + 2), ("a3", "web", 1),
        ]
        let inventory = try fleet.directory.write(
            "fleet.json",
            #"{"defaults": {"tokenFile": "token", "requestTimeoutSeconds": 3}, "#
                + #""sweepSchedule": {"cron": "0 4 * * *", "timeZone": "UTC"}, "groups": {"#
                + #""db": {"schedule": {"cron": "0 3 * * *", "timeZone": "Europe/Berlin"}, "#
                + #""retention": {"keepLast": 7}}, "#
                + #""web": {}}, "vms": ["#
                + vms.map { #"{"name": "\#($0.0)", "address": "127.0.0.1:\#($0.2)", "groups": ["\#($0.1)"]}"# }
                .joined(separator: ", ") + "]}")
        let files = try PushCommandTests.Files(fleet)
        _ = try await fleet.coordinator(["push", "--fleet", inventory] + files.arguments)
        _ = try await fleet.coordinator(["sweep", "--fleet", inventory])
        let db = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "db"])
        #expect(db.status == 0, "\(db.stdout)\(db.stderr)")
        let web = try await fleet.coordinator(["snapshot", "--fleet", inventory, "--group", "web"])
        #expect(web.status != 0, "a3 cannot be reached: \(web.stdout)")

        let service = try await CoordinatorService.start(fleet, inventory: inventory, catchingUp: [])
        defer { _ = service.stop() }
        let store = service.store
        let webRun = try #require(try await store.runs(kind: .snapshot, group: "web").first?.id)
        let sweepRun = try #require(try await store.runs(kind: .sweep).first?.id)
        let base = "http://127.0.0.1:\(service.port)"
        #expect(await eventually(within: 15) { (try? await service.client.send("GET", "/v1/health"))?.status == 200 })
        let browser = HeadlessChromium(directory: fleet.directory)

        let home = try await browser.dom(base + "/")
        #expect(home.text("counts") == "compliant: 3 nonCompliant: 0 unreachable: 1 notSwept: 0", "\(home)")
        let rows = home.rows("vms")
        #expect(rows.count == 4, "\(rows)")
        #expect(rows.first { $0.hasPrefix("a3 ") }?.contains("unreachable") == true, "\(rows)")
        #expect(rows.first { $0.hasPrefix("a0 ") }?.contains("applicationConsistent") == true, "\(rows)")
        let groups = home.rows("groups")
        #expect(groups.first { $0.hasPrefix("db ") }?.contains("succeeded") == true, "\(groups)")
        #expect(groups.first { $0.hasPrefix("web ") }?.contains("failed") == true, "\(groups)")

        let unreachable = try await browser.dom(base + "/?state=unreachable")
        #expect(unreachable.text("shown") == "Showing 1 of 4.", "\(unreachable)")
        #expect(unreachable.rows("vms").first?.hasPrefix("a3 ") == true)
        let searched = try await browser.dom(base + "/?q=+A%31+&group=db&state=")
        #expect(searched.rows("vms").map { $0.prefix(3) } == ["a1 "], "\(searched.rows("vms"))")

        let group = try await browser.dom(base + "/groups/db")
        #expect(group.text("next-run")?.contains("0 3 * * * (Europe/Berlin)") == true, "\(group)")
        #expect(group.rows("snapshots").first?.contains("succeeded | applicationConsistent") == true, "\(group)")
        #expect(group.html.contains("<svg") && group.html.contains("consistent cut"), "the latest timeline")

        let vm = try await browser.dom(base + "/vms/a3")
        #expect(vm.text("latest-sweep")?.hasPrefix("unreachable") == true, "\(vm)")
        #expect(
            vm.rows("history").contains { $0.contains("snapshot") && $0.contains("failed") }, "\(vm.rows("history"))")

        let failed = try await browser.dom(base + "/runs/\(webRun)")
        #expect(failed.text("run")?.contains("snapshot failed of group web") == true, "\(failed)")
        let members = failed.rows("members")
        #expect(
            members.count == 2
                && members.contains { $0.hasPrefix("a3 ") && $0.contains("leftOut") && $0.contains("refused") },
            "\(members)")
        #expect(failed.element("report")?.contains(#"href="/runs/\#(webRun)/report.json""#) == true)
        let report = try await service.client.send("GET", "/runs/\(webRun)/report.json")
        #expect(try report.status == 200 && report.json()["group"] as? String == "web", "the whole report")

        let sweep = try await browser.dom(base + "/runs/\(sweepRun)")
        #expect(sweep.rows("results").count == 4, "\(sweep)")

        let missing = try await browser.dom(base + "/groups/nope")
        #expect(missing.html.contains("There is no group nope in") && missing.html.contains(#"href="/groups/web""#))
        #expect(try await service.client.send("GET", "/groups/nope").status == 404)
        #expect(try await service.client.send("GET", "/runs/x").status == 404)

        let screenshots = ProcessInfo.processInfo.environment["QUIESCE_SCREENSHOTS"] ?? fleet.directory.path
        for (name, path) in [
            ("fleet", "/"), ("group", "/groups/db"), ("vm", "/vms/a3"), ("run", "/runs/\(webRun)"),
        ] {
            let file = "\(screenshots)/dashboard-\(name).png"
            try await browser.screenshot(base + path, to: file)
            let png = try Data(contentsOf: URL(fileURLWithPath: file))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(name): \(png.count) bytes")
        }
    }
}
