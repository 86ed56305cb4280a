import Foundation
import QuiesceTestSupport
import Testing

/// The fault matrix's loss and delay, checked on their own: a TCP connection attempt from the
/// coordinator's namespace to a closed port on an impaired agent's address is refused after
/// one round trip, so its time shows the delay, and total loss leaves it unanswered.
@Suite(.serialized)
struct ImpairedLinkTests {
    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func delayHoldsEveryFrameAndLossDropsThem() async throws {
        // Namespaces, links and connection attempts block for seconds: off Swift's cooperative pool.
        try await withCleanups { cleanups in
            let network = try await onBlockingThread { try ChaosNetwork(agents: 1, impaired: [0], prefix: "qlink") }
            cleanups.add { network.remove() }

            let clear = try await refusal(on: network)
            #expect(clear.refused, "a closed port on a clear link refuses at once: \(clear.output)")

            network.link(ofAgent: 0)?.impair(ImpairedLink.Impairment(loss: 0, delay: .milliseconds(200)))
            let slow = try await refusal(on: network)
            #expect(slow.refused, "a delayed link still carries the refusal: \(slow.output)")
            // A lower bound only: the frames are held 200 ms each way, however fast the machine.
            #expect(slow.seconds >= 0.4, "the refusal took one delayed round trip, not \(slow.seconds) s")

            network.link(ofAgent: 0)?.impair(ImpairedLink.Impairment(loss: 1, delay: .zero))
            let lost = try await refusal(on: network)
            #expect(!lost.refused, "with every frame dropped nothing comes back: \(lost.output)")

            network.clear(agent: 0)
            let healed = try await refusal(on: network)
            #expect(healed.refused, "cleared, the link carries frames again: \(healed.output)")
        }
    }

    /// Tries to connect to port 9 of agent 0 from the coordinator's namespace, giving up after 2 s
    /// (by SIGKILL, which nothing in the way can ignore).
    private func refusal(on network: ChaosNetwork) async throws -> (refused: Bool, seconds: Double, output: String) {
        let started = Date()
        let (_, output) = try await onBlockingThread {
            try Shell.status(
                network.inside(
                    network.coordinator,
                    [
                        "timeout", "--signal=KILL", "2", "bash", "-c",
                        "echo > /dev/tcp/\(ChaosNetwork.agentAddress(0))/9",
                    ]))
        }
        return (output.contains("refused"), Date().timeIntervalSince(started), output)
    }
}
