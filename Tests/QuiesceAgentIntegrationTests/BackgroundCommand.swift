import Foundation
import QuiesceSystem
import QuiesceTestSupport

/// A command left running in the background until `stop()`, which kills it and its children.
final class BackgroundCommand: Sendable {
    private let process: ChildProcess

    init(_ command: [String]) throws {
        process = try ChildProcess.start(command)
    }

    func stop() {
        guard process.isRunning else { return }
        _ = try? Shell.run(["pkill", "-KILL", "-P", "\(process.pid)"])
        process.stop(grace: .zero)
    }
}
