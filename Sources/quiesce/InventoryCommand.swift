import ArgumentParser
import Foundation
import QuiesceAPI
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
            let data = try QuiesceJSON.encode(["vms": selected.map(Listed.init)], pretty: true)
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

/// A VM as `inventory --json` lists it; a VM without a token file says so with null.
private struct Listed: Encodable {
    var name, address: String
    var groups: [String]
    var labels: [String: String]
    var tokenFile: String?

    init(_ vm: FleetInventory.VM) {
        (name, address, groups, labels, tokenFile) = (vm.name, vm.address, vm.groups, vm.labels, vm.tokenFile)
    }

    func encode(to encoder: any Encoder) throws {
        enum Key: String, CodingKey { case name, address, groups, labels, tokenFile }
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(name, forKey: .name)
        try container.encode(address, forKey: .address)
        try container.encode(groups, forKey: .groups)
        try container.encode(labels, forKey: .labels)
        try container.encode(tokenFile, forKey: .tokenFile)
    }
}
