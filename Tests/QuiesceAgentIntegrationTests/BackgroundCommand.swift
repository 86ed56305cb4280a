import Foundation
import QuiesceTestSupport

/// A command left running in the background until `stop()`, which kills it and its children.
final class BackgroundCommand: @unchecked Sendable {
    private let process = Process()

    init(_ command: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func stop() {
        guard process.isRunning else { return }
        _ = try? Shell.run(["pkill", "-KILL", "-P", "\(process.processIdentifier)"])
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
