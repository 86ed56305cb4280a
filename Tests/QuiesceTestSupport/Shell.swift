import Foundation

/// Runs short helper commands (mkfs, mount, fsfreeze) for test set-up.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs `command` (argv[0] looked up in PATH) and returns its standard output; throws when
    /// it exits non-zero.
    @discardableResult
    public static func run(_ command: [String], environment: [String: String]? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(command: command, status: process.terminationStatus, output: text)
        }
        return text
    }

    /// The process's exit status and output, for commands whose failure is the point.
    public static func status(_ command: [String]) throws -> (status: Int32, output: String) {
        do {
            return (0, try run(command))
        } catch let failure as Failure {
            return (failure.status, failure.output)
        }
    }
}
