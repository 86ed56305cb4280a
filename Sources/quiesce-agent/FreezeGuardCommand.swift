import ArgumentParser
import QuiesceAPI
import QuiesceSystem

/// The freeze guard, started by the agent itself for each freeze; not for people to run.
struct FreezeGuardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freeze-guard",
        abstract: "Hold a freeze for the agent (internal).",
        shouldDisplay: false
    )

    @Option(help: "Thaw after this many milliseconds whatever happens.")
    var timeoutMs: Int

    @Flag(help: "syncfs every mount just before the first FIFREEZE.")
    var flush = false

    @Flag(help: "Expedite the kernel's RCU grace periods while the freeze is taken.")
    var expediteGracePeriods = false

    @Option(help: "Issue the first FIFREEZE at this instant, in microseconds since the epoch.")
    var atEpochUs: Int64?

    @Argument(help: "Mount points to freeze, in order.")
    var mounts: [String]

    func run() throws {
        let options = FreezeGuard.Options(
            flush: flush, gracePeriods: expediteGracePeriods ? .system : nil, freezeAt: atEpochUs)
        let status = FreezeGuard.run(mounts: mounts, timeout: .milliseconds(timeoutMs), options: options)
        if status != 0 { throw ExitCode(status) }
    }
}
