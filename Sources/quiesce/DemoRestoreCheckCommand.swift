import ArgumentParser
import Foundation
import QuiesceDemo
import QuiesceSystem

/// The demo group's `verifyCommand`: restores the uploads application from the copies the
/// coordinator names in `QUIESCE_SNAPSHOT_FILES` and `QUIESCE_SNAPSHOT_DB` and checks its promise.
struct DemoRestoreCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-restore-check",
        abstract: "Restore the demo's uploads application from two snapshots and check every row's file (internal).",
        shouldDisplay: false
    )

    @Option(help: "Where the demo's agents put their copies.")
    var copies: String

    @Option(help: "A directory to mount the copies and run the restored database in.")
    var scratch: String

    func run() throws {
        let environment = CurrentProcess.environment
        var copiesOf: [String: String] = [:]
        for vm in Demo.vms {
            let variable = "QUIESCE_SNAPSHOT_\(vm.uppercased())"
            guard let id = environment[variable], !id.isEmpty, !id.contains("/") else {
                throw ValidationError("\(variable) names no snapshot; the coordinator sets it for each member")
            }
            let image = "\(copies)/\(id).img"
            copiesOf[vm] = FileManager.default.fileExists(atPath: image) ? image : "\(copies)/\(id)"
        }
        print("restoring \(copiesOf["db"]!) and \(copiesOf["files"]!)")
        let check: UploadsCheck
        do {
            check = try UploadsCheck.run(
                filesCopy: copiesOf["files"]!, databaseCopy: copiesOf["db"]!, scratch: scratch)
        } catch {
            CurrentProcess.writeToStandardError("restore failed: \(error)\n")
            throw ExitCode.failure
        }
        print(String(format: "PostgreSQL started on the copy and finished recovery in %.1f s", check.recoveryMs / 1000))
        guard check.passed else {
            CurrentProcess.writeToStandardError("\(check)\n")
            throw ExitCode.failure
        }
        print(check.description)
    }
}
