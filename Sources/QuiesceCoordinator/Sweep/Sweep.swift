import Foundation
import QuiesceAPI

/// `quiesce sweep`: the compliance of every selected VM, checked concurrently, with drift
/// against what was last pushed to it.
public enum Sweep {
    /// What a VM should have, by VM name and then by role (`pluginConfig`, `preScript`, `postScript`).
    public typealias Expected = [String: [String: ExpectedFile]]

    public struct ExpectedFile: Sendable, Equatable {
        public var sha256: String
        /// Where the expectation comes from, e.g. "push run 12 at 2026-11-27 03:00:00Z".
        public var origin: String

        public init(sha256: String, origin: String) {
            self.sha256 = sha256
            self.origin = origin
        }
    }

    /// `expected` is asked for at once and awaited only when an answer needs comparing: the
    /// history's read of what was last pushed (a good part of a second at ten thousand VMs)
    /// overlaps the requests. If it fails, the sweep says drift went unchecked, and why.
    public static func run(
        _ vms: [FleetInventory.VM], agents: AgentClient,
        expected: @escaping @Sendable () async throws -> Expected = { [:] }, progress: FleetProgress? = nil
    ) async -> SweepReport {
        let expectations = Task { try await expected() }
        let results = await vms.concurrentMap(atMost: agents.maxConcurrentVMs) { vm in
            let result = await check(vm, agents: agents) { (try? await expectations.value)?[vm.name] ?? [:] }
            progress?.advance()
            return result
        }
        var report = SweepReport(vms: results)
        if case .failure(let error) = await expectations.result {
            report.warnings.append("drift from the last push was not checked: \(error)")
        }
        return report
    }

    static func check(
        _ vm: FleetInventory.VM, agents: AgentClient, expected: () async -> [String: ExpectedFile]
    ) async -> SweepReport.VM {
        var report = SweepReport.VM(name: vm.name, address: vm.address, reachable: true, compliant: false)
        // One request per VM: the compliance answer names the agent (an older agent's does not,
        // and its version is asked for next).
        let answer = await agents.get(CheckReport.self, AgentRoutes.compliance, from: vm, keepConnection: false)
        let version: Result<AgentVersion, AgentClient.CallError>
        if case .success(let check) = answer, let agent = check.agent {
            version = .success(agent)
        } else if case .failure(let error) = answer, error.isUnreachable {
            version = .failure(error)
        } else {
            version = await agents.get(AgentVersion.self, AgentRoutes.version, from: vm, keepConnection: false)
        }
        switch version {
        case .success(let version):
            report.agentVersion = version.version
            report.certificateNotAfter = version.certificateNotAfter
            if let notAfter = version.certificateNotAfter,
                let warning = expiryWarning(
                    notAfter, of: "its TLS certificate", renew: "quiesce ca issue --vm \(vm.name)")
            {
                report.warnings.append(warning)
            }
        case .failure(let error):
            report.reachable = !error.isUnreachable
            report.problems.append(error.description)
            return report
        }
        switch answer {
        case .success(let check):
            report.predictedConsistency = check.predictedConsistency
            report.wouldFreeze = check.freeze.enabled ? check.freeze.mounts : []
            report.reason = check.reason
            report.problems += check.errors.map { "\($0.code): \($0.message)" }
            report.problems += check.files.flatMap(\.violations)
            let hashes = Dictionary(check.files.compactMap { file in file.sha256.map { (file.role.rawValue, $0) } }) {
                first, _ in first
            }
            report.fileHashes = hashes
            let drift = drift(hashes, expected: await expected(), files: check.files)
            report.problems += drift.map(\.problem)
            report.drifted = drift.isEmpty ? nil : drift.map(\.role)
            if check.predictedConsistency != .applicationConsistent && check.errors.isEmpty {
                report.problems.append(
                    "the next snapshot would be \(check.predictedConsistency.rawValue): \(check.reason)")
            }
        case .failure(let error):
            report.reachable = !error.isUnreachable
            report.problems.append(error.description)
        }
        report.compliant = report.reachable && report.problems.isEmpty
        return report
    }

    /// Certificates this close to their end are reported, in days.
    public static let expiryWarningDays = 30

    /// A warning when `notAfter` is within `expiryWarningDays` of `now`, naming `what` and the fix.
    public static func expiryWarning(_ notAfter: Date, of what: String, renew: String, now: Date = Date()) -> String? {
        let days = Int((notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
        guard days <= expiryWarningDays else { return nil }
        let when = notAfter.formatted(.iso8601)
        return days < 0
            ? "\(what) expired on \(when): `\(renew)`"
            : "\(what) expires in \(days) day\(days == 1 ? "" : "s"), on \(when): renew it with `\(renew)`"
    }

    /// A problem for every pushed file whose content on the VM is not what was pushed.
    static func drift(
        _ hashes: [String: String], expected: [String: ExpectedFile], files: [FileCheck]
    ) -> [(role: String, problem: String)] {
        expected.sorted { $0.key < $1.key }.compactMap { role, file in
            guard let actual = hashes[role] else {
                let path = files.first { $0.role.rawValue == role }?.path
                return (
                    role,
                    "\(role) \(path ?? "") is missing or unreadable; expected the one from \(file.origin): push again"
                )
            }
            guard actual != file.sha256 else { return nil }
            let path = files.first { $0.role.rawValue == role }?.path ?? role
            return (
                role,
                "\(role) \(path) changed since \(file.origin): SHA-256 \(actual.prefix(12)) on the VM, "
                    + "\(file.sha256.prefix(12)) pushed; find who edited it, then push again"
            )
        }
    }
}
