import Foundation
import QuiesceAPI

/// `quiesce push`: the bundle to every target concurrently, the config before the scripts on
/// each VM. With a canary, the first VMs get it first and must then pass their compliance check,
/// or nothing goes beyond them.
public enum Push {
    public static func run(
        _ bundle: PushBundle, to vms: [FleetInventory.VM], canary: Int, agents: AgentClient,
        progress: FleetProgress? = nil
    ) async -> PushReport {
        let canaries = Array(vms.prefix(canary))
        let rest = Array(vms.dropFirst(canaries.count))
        var results = await push(bundle, to: canaries, canary: true, agents: agents, progress: progress)
        var verdict: PushReport.CanaryVerdict?
        if !canaries.isEmpty {
            verdict = await check(canaries, results: &results, bundle: bundle, agents: agents)
        }
        if verdict?.passed == false {
            progress?.advance(by: rest.count)
            results += rest.map { vm in
                PushReport.VM(
                    name: vm.name, address: vm.address, status: .notAttempted, canary: false,
                    problem: "not pushed: the canary failed (\(verdict?.reason ?? ""))")
            }
        } else {
            results += await push(bundle, to: rest, canary: false, agents: agents, progress: progress)
        }
        return PushReport(bundle: bundle, vms: results, canary: verdict)
    }

    /// What a push would do, without contacting any VM.
    public static func plan(_ bundle: PushBundle, to vms: [FleetInventory.VM], canary: Int) -> PushReport {
        let results = vms.enumerated().map { index, vm in
            PushReport.VM(name: vm.name, address: vm.address, status: .planned, canary: index < canary)
        }
        return PushReport(bundle: bundle, vms: results, canary: nil, dryRun: true)
    }

    private static func push(
        _ bundle: PushBundle, to vms: [FleetInventory.VM], canary: Bool, agents: AgentClient, progress: FleetProgress?
    ) async -> [PushReport.VM] {
        await vms.concurrentMap(atMost: agents.maxConcurrentVMs) { vm in
            let result = await push(bundle, to: vm, canary: canary, agents: agents)
            progress?.advance()
            return result
        }
    }

    /// One VM: the whole bundle in one request, which the agent checks whole before writing any
    /// of it; an agent without the bundle route (404) gets each file in turn.
    static func push(_ bundle: PushBundle, to vm: FleetInventory.VM, canary: Bool, agents: AgentClient) async
        -> PushReport.VM
    {
        var report = PushReport.VM(name: vm.name, address: vm.address, status: .unchanged, canary: canary)
        switch await agents.put(
            BundleWritten.self, AgentRoutes.bundle, on: vm, json: bundle.upload, keepConnection: canary)
        {
        case .success(let written):
            report.written = written.files.map {
                PushReport.WrittenFile(role: $0.role, path: $0.result.path, changed: $0.result.changed)
            }
            if report.written.contains(where: \.changed) { report.status = .pushed }
            return report
        case .failure(.refused(404, let body)) where body?.code == .notFound:
            return await pushEachFile(bundle, to: vm, report: report, agents: agents)
        case .failure(let error):
            report.status = error.isUnreachable ? .unreachable : (error.isSessionUnderWay ? .skipped : .failed)
            report.problem = "the bundle (\(bundle.files.map(\.source).joined(separator: ", "))): \(error)"
            return report
        }
    }

    /// An agent from before the bundle route: each file in turn, stopping at the first refusal.
    private static func pushEachFile(
        _ bundle: PushBundle, to vm: FleetInventory.VM, report: PushReport.VM, agents: AgentClient
    ) async -> PushReport.VM {
        var report = report
        let canary = report.canary
        for (index, file) in bundle.files.enumerated() {
            let last = index == bundle.files.count - 1
            switch await agents.put(
                WriteResult.self, file.route, on: vm, body: file.bytes, sha256: file.sha256, signature: file.signature,
                keepConnection: !(last && !canary))
            {
            case .success(let written):
                report.written.append(
                    PushReport.WrittenFile(role: file.role, path: written.path, changed: written.changed))
                if written.changed { report.status = .pushed }
            case .failure(let error):
                report.status = error.isUnreachable ? .unreachable : (error.isSessionUnderWay ? .skipped : .failed)
                report.problem = "\(file.role.rawValue) (\(file.source)): \(error)"
                if !report.written.isEmpty {
                    let taken = report.written.map(\.role.rawValue).joined(separator: " and ")
                    report.problem? += ". The VM has the new \(taken) but not the rest: push again"
                }
                return report
            }
        }
        return report
    }

    /// The canaries must all have taken the push and now pass their compliance check with the
    /// pushed hashes on disk.
    private static func check(
        _ canaries: [FleetInventory.VM], results: inout [PushReport.VM], bundle: PushBundle, agents: AgentClient
    ) async -> PushReport.CanaryVerdict {
        let names = canaries.map(\.name)
        if let failed = results.first(where: { !$0.status.succeeded }) {
            return .init(
                vms: names, passed: false,
                reason: "\(failed.name) did not take the push: \(failed.problem ?? failed.status.rawValue)")
        }
        let expected = bundle.expectedFiles(on: names, origin: "this push")
        let sweep = await Sweep.run(canaries, agents: agents, expected: { expected })
        for vm in sweep.vms where !vm.compliant {
            if let index = results.firstIndex(where: { $0.name == vm.name }) {
                results[index].status = .failed
                results[index].problem = "pushed, but its check fails: " + (vm.problems.first ?? "not compliant")
            }
            return .init(
                vms: names, passed: false,
                reason: "\(vm.name) fails its check after the push: \(vm.problems.first ?? "not compliant")")
        }
        return .init(vms: names, passed: true, reason: nil)
    }
}
