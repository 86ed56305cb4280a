import ArgumentParser
import QuiesceSystem

/// The group sentinel, started by `serve` itself; not for people to run.
struct GroupSentinelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group-sentinel",
        abstract: "End the scripts' process groups when the agent dies (internal).",
        shouldDisplay: false
    )

    @Option(help: "Seconds between SIGTERM and SIGKILL.")
    var graceSeconds: Int

    @Option(help: "The marker in the environment of the scripts to end.")
    var marker: String

    func run() {
        GroupSentinel.run(grace: .seconds(graceSeconds), marker: marker)
    }
}
