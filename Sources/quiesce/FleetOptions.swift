import ArgumentParser
import Foundation
import QuiesceCoordinator
import QuiesceHTTPClient

/// The inventory and the selectors that pick VMs from it.
struct FleetSelectors: ParsableArguments {
    @Option(help: "The fleet inventory (see fleet.example.json).")
    var fleet = "fleet.json"

    @Option(help: "Only VMs in this group (repeatable).")
    var group: [String] = []

    @Option(help: "Only this VM (repeatable).")
    var vm: [String] = []

    @Option(help: "Only VMs with this label, key=value (repeatable).")
    var label: [String] = []

    /// True when no selector was given (every VM is picked).
    var pickAll: Bool { group.isEmpty && vm.isEmpty && label.isEmpty }

    /// The inventory and the VMs the selectors pick; exits 2 with every problem when unusable.
    /// `requiringFiles` false loads an inventory whose files are still to be made.
    func selectedVMs(requiringFiles: Bool = true) throws -> (FleetInventory, [FleetInventory.VM]) {
        do {
            let inventory = try FleetInventory.load(path: fleet, requiringFiles: requiringFiles)
            return (inventory, try FleetSelection(groups: group, names: vm, labels: label).select(from: inventory))
        } catch {
            throw UnusableInput(description: "quiesce: \(error)")
        }
    }
}

/// The options that pick the fleet and the VMs every command works on, and how to reach them.
struct FleetOptions: ParsableArguments {
    @OptionGroup var selectors: FleetSelectors

    @Option(help: "At most this many requests in flight at once.")
    var maxConcurrent = 256

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    func validate() throws {
        guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1") }
    }

    var fleet: String { selectors.fleet }
    var group: [String] { selectors.group }
}

extension FleetOptions {
    /// The inventory and the VMs the selectors pick; exits 2 with every problem when unusable.
    func selectedVMs() throws -> (FleetInventory, [FleetInventory.VM]) { try selectors.selectedVMs() }

    /// The inventory's absolute path, as the history records it.
    var fleetPath: String { URL(fileURLWithPath: fleet).standardizedFileURL.path }

    /// One libcurl client for the whole command: its connections are reused from phase to phase.
    /// `atLeast` raises the concurrency for a group snapshot, whose every member must get its
    /// freeze at once.
    func agentClient(for inventory: FleetInventory, atLeast: Int = 0) -> AgentClient {
        AgentClient(for: inventory, maxConcurrent: max(maxConcurrent, atLeast))
    }
}

extension AgentClient {
    /// A libcurl client with the inventory's TLS files and request timeout.
    init(for inventory: FleetInventory, maxConcurrent: Int) {
        self.init(
            client: CurlClient(maxConcurrentTransfers: maxConcurrent, tls: ClientTLS(inventory.defaults.tls)),
            requestTimeout: .seconds(inventory.defaults.requestTimeoutSeconds))
    }
}
