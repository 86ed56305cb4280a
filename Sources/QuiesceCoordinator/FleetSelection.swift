/// Which VMs a command targets: `--group`, `--vm` and `--label key=value`, combined with AND
/// between kinds and OR within one kind. No selector means every VM.
public struct FleetSelection: Sendable, Equatable {
    public var groups: [String]
    public var names: [String]
    /// `key=value` pairs.
    public var labels: [String]

    public init(groups: [String] = [], names: [String] = [], labels: [String] = []) {
        self.groups = groups
        self.names = names
        self.labels = labels
    }

    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The selected VMs in inventory order; a selector naming nothing that exists is an error.
    public func select(from inventory: FleetInventory) throws(Problem) -> [FleetInventory.VM] {
        for group in groups where inventory.groups[group] == nil {
            throw Problem(
                description:
                    "no group \"\(group)\" in the inventory; groups: "
                    + "\(inventory.groups.keys.sorted().joined(separator: ", "))"
            )
        }
        for name in names where !inventory.vms.contains(where: { $0.name == name }) {
            throw Problem(description: "no VM \"\(name)\" in the inventory")
        }
        let pairs = try labels.map { (label: String) throws(Problem) -> (String, String) in
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Problem(description: "a label selector is key=value, found \"\(label)\"")
            }
            return (parts[0], parts[1])
        }
        return inventory.vms.filter { vm in
            (groups.isEmpty || !Set(groups).isDisjoint(with: vm.groups))
                && (names.isEmpty || names.contains(vm.name))
                && (pairs.isEmpty || pairs.contains { vm.labels[$0.0] == $0.1 })
        }
    }
}
