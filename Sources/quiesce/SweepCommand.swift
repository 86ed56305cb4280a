import ArgumentParser
import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Check every selected VM's compliance: reachable, agent version, permission rules, scripts, predicted consistency.",
        discussion: "Exits 0 when every VM is compliant, 1 when one is not or cannot be reached, 2 for an unusable inventory."
    )

    @OptionGroup var options: FleetOptions

    @Flag(help: "Also list the compliant VMs.")
    var all = false

    func run() async throws {
        let (inventory, vms) = try options.selectedVMs()
        let agents = AgentClient(
            client: CurlClient(maxConcurrentTransfers: 256, tls: ClientTLS(inventory.defaults.tls)),
            requestTimeout: .seconds(inventory.defaults.requestTimeoutSeconds))
        let report = await Sweep.run(vms, agents: agents)
        if options.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            let summary = report.summary
            print("\(summary.total) VMs: \(summary.compliant) compliant, \(summary.nonCompliant) not compliant, \(summary.unreachable) unreachable")
            let shown = report.vms.filter { all || !$0.compliant }
            if !shown.isEmpty {
                let rows = [["VM", "ADDRESS", "STATE", "NEXT SNAPSHOT", "FIRST PROBLEM"]] + shown.map { vm in
                    [
                        vm.name, vm.address, vm.reachable ? (vm.compliant ? "compliant" : "NOT COMPLIANT") : "UNREACHABLE",
                        vm.predictedConsistency?.rawValue ?? "-", vm.problems.first ?? "",
                    ]
                }
                print(TextTable.render(rows), terminator: "")
            }
        }
        if report.summary.compliant != report.summary.total { throw ExitCode.failure }
    }
}

extension ClientTLS {
    init(_ files: FleetInventory.TLSFiles?) {
        self.init(caFile: files?.caFile, certificateFile: files?.certificateFile, keyFile: files?.keyFile)
    }
}

extension FleetOptions {
    /// The inventory and the VMs the selectors pick; exits 2 with every problem when unusable.
    func selectedVMs() throws -> (FleetInventory, [FleetInventory.VM]) {
        do {
            let inventory = try FleetInventory.load(path: fleet)
            return (inventory, try FleetSelection(groups: group, names: vm, labels: label).select(from: inventory))
        } catch {
            FileHandle.standardError.write(Data("quiesce: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
