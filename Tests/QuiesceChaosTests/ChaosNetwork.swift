import Foundation
import QuiesceTestSupport
import Synchronization

/// Separate hosts on one machine: a network namespace per agent and one for the coordinator,
/// each linked to a bridge in a hub namespace, addresses from 198.18.0.0/24 (the range set
/// aside for network tests). The links are veth pairs, but for the agents named `impaired`,
/// whose links run through an `ImpairedLink` so that loss and delay can be put on them.
/// Nothing of it touches the machine's own namespace; `remove()` deletes the namespaces, and
/// with them every link.
final class ChaosNetwork: Sendable {
    let prefix: String
    let agentCount: Int
    private let impairedLinks = Mutex<[Int: ImpairedLink]>([:])

    static let coordinatorAddress = "198.18.0.2"
    static func agentAddress(_ index: Int) -> String { "198.18.0.\(10 + index)" }

    var hub: String { "\(prefix)-hub" }
    var coordinator: String { "\(prefix)-c" }
    func agent(_ index: Int) -> String { "\(prefix)-a\(index)" }

    init(agents: Int, impaired: Set<Int> = [], prefix: String = "qchaos") throws {
        self.prefix = prefix
        agentCount = agents
        Self.removeLeftovers(prefix: prefix)
        do {
            try ip(["netns", "add", hub])
            try ip(["-n", hub, "link", "add", "br0", "type", "bridge"])
            try ip(["-n", hub, "link", "set", "br0", "up"])
            try connect(coordinator, address: Self.coordinatorAddress, port: "pc")
            for index in 0..<agents {
                try connect(
                    agent(index), address: Self.agentAddress(index), port: "p\(index)",
                    impaired: impaired.contains(index) ? index : nil)
            }
        } catch {
            remove()
            throw error
        }
    }

    private func connect(_ namespace: String, address: String, port: String, impaired index: Int? = nil) throws {
        try ip(["netns", "add", namespace])
        if let index {
            let link = try ImpairedLink(first: hub, firstName: port, second: namespace, secondName: "eth0")
            impairedLinks.withLock { $0[index] = link }
        } else {
            try ip(["-n", hub, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        }
        try ip(["-n", hub, "link", "set", port, "master", "br0", "up"])
        try ip(["-n", namespace, "addr", "add", "\(address)/24", "dev", "eth0"])
        try ip(["-n", namespace, "link", "set", "eth0", "up"])
        try ip(["-n", namespace, "link", "set", "lo", "up"])
    }

    /// Cuts agent `index` off the network, or joins it again.
    func setLink(ofAgent index: Int, up: Bool) throws {
        try ip(["-n", agent(index), "link", "set", "eth0", up ? "up" : "down"])
    }

    /// Makes impaired agent `index`'s link lossy and slow: 30% of frames dropped and the rest
    /// held 200 ms, each way; `clear` undoes it. Returns what was applied.
    @discardableResult
    func degrade(agent index: Int) throws -> String {
        guard let link = link(ofAgent: index) else {
            throw ChaosNetworkError(description: "agent \(index)'s link is not impaired: name it in `impaired`")
        }
        link.impair(ImpairedLink.Impairment(loss: 0.3, delay: .milliseconds(200)))
        return "30% loss and 200 ms delay each way"
    }

    func clear(agent index: Int) {
        link(ofAgent: index)?.impair(.none)
    }

    /// Agent `index`'s impaired link, if it has one.
    func link(ofAgent index: Int) -> ImpairedLink? {
        impairedLinks.withLock { $0[index] }
    }

    /// `command` run inside `namespace`.
    func inside(_ namespace: String, _ command: [String]) -> [String] {
        ["ip", "netns", "exec", namespace] + command
    }

    func remove() {
        for link in impairedLinks.withLock({ $0.values }) { link.stop() }
        Self.removeLeftovers(prefix: prefix)
    }

    /// Deletes every namespace of ours, also what a killed run left.
    private static func removeLeftovers(prefix: String) {
        let names = ((try? Shell.run(["ip", "netns", "list"])) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
        for name in names where name.hasPrefix(prefix + "-") { _ = try? Shell.run(["ip", "netns", "del", name]) }
    }

    private func ip(_ arguments: [String]) throws { try Shell.run(["ip"] + arguments) }
}

struct ChaosNetworkError: Error, CustomStringConvertible {
    var description: String
}
