import Foundation

/// The built `quiesce-agent` executable, run as a real process the way operators and other
/// tools run it.
public enum AgentBinary {
    /// Beside the test bundle in the build products directory.
    public static var path: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return ((executable as NSString).deletingLastPathComponent as NSString).appendingPathComponent("quiesce-agent")
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// The standard output parsed as one JSON object.
        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw CocoaError(.propertyListReadCorrupt)
            }
            return object
        }
    }

    /// Runs the agent to completion. The waiting happens off Swift's cooperative pool, which a
    /// long-running agent would otherwise starve.
    public static func run(_ arguments: [String]) async throws -> Result {
        try await onBlockingThread { try runBlocking(arguments) }
    }

    private static func runBlocking(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Drain both pipes at once so neither can fill up and stall the agent.
        nonisolated(unsafe) var errors = Data()
        let errorsRead = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errors = stderr.fileHandleForReading.readDataToEndOfFile()
            errorsRead.signal()
        }
        let outputData = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorsRead.wait()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }
}

extension AgentBinary {
    /// Starts the agent without waiting for it, for tests that kill it or talk to it.
    /// Its standard input is a pipe the caller holds (`input`), its output a pipe it reads.
    public static func start(_ arguments: [String]) throws -> (process: Process, input: Pipe, output: Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, input, output)
    }

    /// Ends a started agent the way its parent dying would: its input closes. A freeze guard
    /// thaws and exits on that.
    public static func stop(_ started: (process: Process, input: Pipe, output: Pipe)) {
        try? started.input.fileHandleForWriting.close()
        started.process.waitUntilExit()
    }
}

/// Waits for a condition without blocking Swift's cooperative pool for long.
public func eventually(within seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
