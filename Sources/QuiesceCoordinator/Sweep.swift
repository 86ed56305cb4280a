import QuiesceAPI

/// `quiesce sweep`: the compliance of every selected VM, checked concurrently.
public enum Sweep {
    public static func run(_ vms: [FleetInventory.VM], agents: AgentClient) async -> SweepReport {
        let results = await withTaskGroup(of: (Int, SweepReport.VM).self) { group in
            for (index, vm) in vms.enumerated() {
                group.addTask { (index, await check(vm, agents: agents)) }
            }
            var results = [SweepReport.VM?](repeating: nil, count: vms.count)
            for await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        return SweepReport(vms: results)
    }

    static func check(_ vm: FleetInventory.VM, agents: AgentClient) async -> SweepReport.VM {
        var report = SweepReport.VM(name: vm.name, address: vm.address, reachable: true, compliant: false)
        switch await agents.get(AgentVersion.self, AgentRoutes.version, from: vm) {
        case .success(let version):
            report.agentVersion = version.version
        case .failure(let error):
            report.reachable = !error.isUnreachable
            report.problems.append(error.description)
            return report
        }
        switch await agents.get(CheckReport.self, AgentRoutes.compliance, from: vm) {
        case .success(let check):
            report.predictedConsistency = check.predictedConsistency
            report.reason = check.reason
            report.problems += check.errors.map { "\($0.code): \($0.message)" }
            report.problems += check.files.flatMap(\.violations)
            report.scriptHashes = Dictionary(
                check.files.compactMap { file in file.sha256.map { (file.role.rawValue, $0) } }) { first, _ in first }
            if check.predictedConsistency != .applicationConsistent && check.errors.isEmpty {
                report.problems.append("the next snapshot would be \(check.predictedConsistency.rawValue): \(check.reason)")
            }
        case .failure(let error):
            report.reachable = !error.isUnreachable
            report.problems.append(error.description)
        }
        report.compliant = report.reachable && report.problems.isEmpty
        return report
    }
}

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
        /// The SHA-256 of each script on the VM, by role.
        public var scriptHashes: [String: String]?
    }

    public var summary: Summary
    public var vms: [VM]

    public init(vms: [VM]) {
        let unreachable = vms.filter { !$0.reachable }.count
        let compliant = vms.filter(\.compliant).count
        summary = Summary(total: vms.count, compliant: compliant, nonCompliant: vms.count - compliant - unreachable, unreachable: unreachable)
        self.vms = vms.filter { !$0.compliant } + vms.filter(\.compliant)
    }
}
