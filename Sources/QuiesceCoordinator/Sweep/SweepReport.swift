import Foundation
import QuiesceAPI

/// What a sweep found: the counts first, then each VM, failing ones first.
public struct SweepReport: Codable, Sendable {
    public struct Summary: Codable, Sendable, Equatable {
        public var total: Int
        public var compliant: Int
        public var nonCompliant: Int
        public var unreachable: Int
    }

    public struct VM: Codable, Sendable {
        public var name: String
        public var address: String
        public var reachable: Bool
        public var compliant: Bool
        public var agentVersion: String?
        public var predictedConsistency: Consistency?
        public var reason: String?
        /// Every broken rule and failed call, in words.
        public var problems: [String] = []
        /// The SHA-256 of the plugin config and each script on the VM, by role.
        public var fileHashes: [String: String]?
        /// The roles whose file on the VM is not what was last pushed there (drift).
        public var drifted: [String]?
        /// The mounts its next snapshot would freeze, in order (empty: none).
        public var wouldFreeze: [String]?
        /// When its TLS certificate expires, as it reports.
        public var certificateNotAfter: Date?
        /// What needs doing soon but breaks nothing yet (a certificate near its end).
        public var warnings: [String] = []
    }

    public var summary: Summary
    public var vms: [VM]
    /// The same for the coordinator's own side (its client certificate).
    public var warnings: [String] = []

    public init(vms: [VM]) {
        let unreachable = vms.filter { !$0.reachable }.count
        let compliant = vms.filter(\.compliant).count
        summary = Summary(
            total: vms.count, compliant: compliant, nonCompliant: vms.count - compliant - unreachable,
            unreachable: unreachable)
        self.vms = vms.filter { !$0.compliant } + vms.filter(\.compliant)
    }
}
