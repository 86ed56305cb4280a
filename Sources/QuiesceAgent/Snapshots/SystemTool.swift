import QuiesceAPI
import QuiesceSystem
import SystemPackage

/// Runs a system tool (`btrfs`, `lvcreate`, ...) found in the fixed search path, with the
/// scripts' small environment and a time limit; its output on success, its own words on failure.
struct SystemTool: Sendable {
    let name: String
    var timeout: Duration = .seconds(60)

    func run(_ arguments: [String]) async -> Result<String, ToolFailure> {
        guard let path = ExecutableLookup.find(name) else {
            return .failure(
                ToolFailure(
                    message:
                        "\(name) is not installed (looked in \(ExecutableLookup.searchPath.joined(separator: ":")))"))
        }
        let run = await ScriptRunner().run(
            ScriptInvocation(
                executable: FilePath(path), arguments: arguments, environment: ScriptEnvironment.base, budget: timeout,
                killGrace: .seconds(2), tailLimit: 256 * 1024))
        let command = ([name] + arguments).joined(separator: " ")
        switch run.outcome {
        case .succeeded:
            return .success(run.stdout.text)
        case .failed:
            let words = (run.stderr.text.isEmpty ? run.stdout.text : run.stderr.text).trimmingWhitespace()
            return .failure(ToolFailure(message: "`\(command)` exited with status \(run.exitCode ?? -1): \(words)"))
        case .timedOut:
            return .failure(ToolFailure(message: "`\(command)` ran longer than \(timeout) and was killed"))
        case .couldNotStart(let reason):
            return .failure(ToolFailure(message: "`\(command)` could not start: \(reason)"))
        }
    }
}

struct ToolFailure: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}
