import Foundation
import QuiesceAPI

/// The pages `quiesce serve` shows at `/`: the fleet, a group, a VM, a run. Each is rendered on
/// the server from the history store (each run's facts and each VM's latest results, so the
/// fleet page reads one row per VM rather than any report) and the inventory.
public struct Dashboard: Sendable {
    public struct Page: Sendable, Equatable {
        /// 200, or 404 for a group, VM or run that does not exist.
        public var status: Int
        public var html: String
    }

    let store: HistoryStore
    let inventory: FleetInventory
    /// Where the inventory was read from, as the pages name it.
    let fleetPath: String
    let now: @Sendable () -> Date
    let reports = DecodedReports<GroupSnapshotReport>()
    let timelines = DecodedReports<GroupTimeline>()

    public init(
        store: HistoryStore, inventory: FleetInventory, fleetPath: String,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.inventory = inventory
        self.fleetPath = fleetPath
        self.now = now
    }

    var groupNames: [String] { inventory.groups.keys.sorted() }

    func page(_ title: String, _ body: String) -> Page {
        Page(status: 200, html: HTML.page(title: title, groups: groupNames, body: body))
    }

    /// A page for something that does not exist: what was asked, and where to look instead.
    func notFound(_ what: String, _ hint: String) -> Page {
        Page(
            status: 404,
            html: HTML.page(
                title: "Not found", groups: groupNames,
                body: "<h1>Not found</h1><p>\(HTML.escape(what))</p><p>\(hint)</p>"))
    }

    /// The next time `schedule` plans a run, after now.
    func nextRun(_ schedule: CronSchedule?) -> String {
        guard let schedule else { return "not scheduled" }
        return HTML.time(schedule.next(after: now())) + " · " + HTML.escape(schedule.description)
    }
}
