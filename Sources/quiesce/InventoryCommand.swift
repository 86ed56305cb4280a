import ArgumentParser
import Foundation
import QuiesceCoordinator

struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Check the fleet inventory and list the VMs the selectors pick.",
        discussion: "Exits 0 when the inventory is valid, 2 with every problem and its location when it is not."
    )

    @OptionGroup var options: FleetOptions

    func run() throws {
        let (inventory, selected) = try options.selectedVMs()
        if options.json {
            let vms = selected.map { vm in
                [
                    "name": vm.name, "address": vm.address, "groups": vm.groups, "labels": vm.labels,
                    "tokenFile": vm.tokenFile ?? NSNull(),
                ] as [String: Any]
            }
            let data = try JSONSerialization.data(
                withJSONObject: ["vms": vms], options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let rows =
            [["NAME", "ADDRESS", "GROUPS", "LABELS"]]
            + selected.map { vm in
                [
                    vm.name, vm.address, vm.groups.joined(separator: ","),
                    vm.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                ]
            }
        print(TextTable.render(rows), terminator: "")
        let groups = inventory.groups.values.sorted { $0.name < $1.name }.map { "\($0.name) (\($0.policy.rawValue))" }
        print("\(selected.count) of \(inventory.vms.count) VMs; groups: \(groups.joined(separator: ", "))")
    }
}
