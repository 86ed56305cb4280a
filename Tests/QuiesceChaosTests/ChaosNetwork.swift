import Foundation
import QuiesceTestSupport

/// Separate hosts on one machine: a network namespace per agent and one for the coordinator,
/// each with a veth to a bridge in a hub namespace, addresses from 198.18.0.0/24 (the range set
/// aside for network tests). Nothing of it touches the machine's own namespace; `remove()`
/// deletes the namespaces, and with them every link.
final class ChaosNetwork: Sendable {
    let prefix: String
    let agentCount: Int

    static let coordinatorAddress = "198.18.0.2"
    static func agentAddress(_ index: Int) -> String { "198.18.0.\(10 + index)" }

    var hub: String { "\(prefix)-hub" }
    var coordinator: String { "\(prefix)-c" }
    func agent(_ index: Int) -> String { "\(prefix)-a\(index)" }

    init(agents: Int, prefix: String = "qchaos") throws {
        self.prefix = prefix
        agentCount = agents
        Self.removeLeftovers(prefix: prefix)
        do {
            try ip(["netns", "add", hub])
            try ip(["-n", hub, "link", "add", "br0", "type", "bridge"])
            try ip(["-n", hub, "link", "set", "br0", "up"])
            try connect(coordinator, address: Self.coordinatorAddress, port: "pc")
            for index in 0..<agents { try connect(agent(index), address: Self.agentAddress(index), port: "p\(index)") }
        } catch {
            remove()
            throw error
        }
    }

    private func connect(_ namespace: String, address: String, port: String) throws {
        try ip(["netns", "add", namespace])
        try ip(["-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try ip(["-n", hub, "link", "set", port, "master", "br0", "up"])
        try ip(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
        try ip(["-n", namespace, "link", "set", "eth0", "up"])
        try ip(["-n", namespace, "link", "set", "lo", "up"])
    }

    /// Cuts agent `index` off the network, or joins it again.
    func setLink(ofAgent index: Int, up: Bool) throws {
        try ip(["-n", agent(index), "link", "set", "eth0", up ? "up" : "down"])
    }

    /// Makes agent `index`'s link lossy (30% of packets dropped each way) and, where the kernel
    /// has `sch_netem`, slow (200 ms each way); `clear` undoes it. Returns what was applied.
    @discardableResult
    func degrade(agent index: Int) throws -> String {
        let namespace = agent(index)
        let netem = ["tc", "qdisc", "add", "dev", "eth0", "root", "netem", "loss", "30%", "delay", "200ms"]
        if (try? Shell.run(inside(namespace, netem))) != nil {
            return "30% loss, 200 ms delay (netem)"
        }
        // No netem in this kernel: the loss through iptables' statistic match, no delay.
        for chain in ["INPUT", "OUTPUT"] {
            try Shell.run(
                inside(
                    namespace,
                    [
                        "iptables-legacy", "-A", chain, "-m", "statistic", "--mode", "random", "--probability", "0.3",
                        "-j", "DROP",
                    ]))
        }
        return "30% loss (iptables; this kernel has no netem for the delay)"
    }

    func clear(agent index: Int) {
        let namespace = agent(index)
        _ = try? Shell.run(inside(namespace, ["tc", "qdisc", "del", "dev", "eth0", "root"]))
        _ = try? Shell.run(inside(namespace, ["iptables-legacy", "-F"]))
    }

    /// `command` run inside `namespace`.
    func inside(_ namespace: String, _ command: [String]) -> [String] {
        ["ip", "netns", "exec", namespace] + command
    }

    func remove() { Self.removeLeftovers(prefix: prefix) }

    /// Deletes every namespace of ours, also what a killed run left.
    private static func removeLeftovers(prefix: String) {
        let names = ((try? Shell.run(["ip", "netns", "list"])) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        for name in names where name.hasPrefix(prefix + "-") { _ = try? Shell.run(["ip", "netns", "del", name]) }
    }

    private func ip(_ arguments: [String]) throws { try Shell.run(["ip"] + arguments) }
}
