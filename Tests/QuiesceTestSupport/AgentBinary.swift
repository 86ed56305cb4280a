import Foundation

/// The built `quiesce-agent` executable, run as a real process the way operators and other
/// tools run it.
public enum AgentBinary {
    /// Beside the test bundle in the build products directory.
    public static var path: String { path(of: "quiesce-agent") }

    /// A program of this package built beside the test bundle (`quiesce-agent`, `quiesce`), or
    /// one given by its absolute path.
    public static func path(of program: String) -> String {
        if program.hasPrefix("/") { return program }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return ((executable as NSString).deletingLastPathComponent as NSString).appendingPathComponent(program)
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
    public static func run(_ arguments: [String], program: String = "quiesce-agent") async throws -> Result {
        try await onBlockingThread { try runBlocking(arguments, program: program) }
    }

    private static func runBlocking(_ arguments: [String], program: String) throws -> Result {
        let started = try start(arguments, capturingStandardError: true, program: program)
        try started.input.fileHandleForWriting.close()
        // Drain both pipes at once so neither can fill up and stall the agent.
        nonisolated(unsafe) var errors = Data()
        let errorsRead = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errors = started.errors?.fileHandleForReading.readDataToEndOfFile() ?? Data()
            errorsRead.signal()
        }
        let outputData = started.output.fileHandleForReading.readDataToEndOfFile()
        started.process.waitUntilExit()
        errorsRead.wait()
        return Result(
            status: started.process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }
}

extension AgentBinary {
    /// A running agent and the pipes to it.
    public struct Started: Sendable {
        public let process: Process
        /// Its standard input; closing it is what the agent's guard takes as its parent dying.
        public let input: Pipe
        public let output: Pipe
        /// Its standard error, when captured; otherwise it goes to /dev/null.
        public let errors: Pipe?
    }

    /// Starts the agent without waiting for it, for tests that kill it or talk to it.
    public static func start(
        _ arguments: [String], capturingStandardError: Bool = false, program: String = "quiesce-agent"
    ) throws -> Started {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path(of: program))
        process.arguments = arguments
        let started = Started(
            process: process, input: Pipe(), output: Pipe(), errors: capturingStandardError ? Pipe() : nil)
        process.standardInput = started.input
        process.standardOutput = started.output
        process.standardError = started.errors ?? FileHandle.nullDevice
        try process.run()
        return started
    }

    /// Ends a started agent the way its parent dying would: its input closes. A freeze guard
    /// thaws and exits on that.
    public static func stop(_ started: Started) {
        try? started.input.fileHandleForWriting.close()
        started.process.waitUntilExit()
    }
}

/// Waits for a condition without blocking Swift's cooperative pool for long, looking every
/// `interval` (a long wait looks less often, leaving the machine to the processes it waits for).
public func eventually(
    within seconds: Double, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
