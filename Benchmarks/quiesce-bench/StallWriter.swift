import Foundation
import Synchronization

/// The application in the stall benchmark: a child process (`quiesce-bench writer FILE`) that
/// appends 512 bytes and `fdatasync`s without pause, and reports each write's end and duration
/// (CLOCK_MONOTONIC microseconds) on its standard output. A child, because a write to a frozen
/// file system blocks uninterruptibly until the thaw: never this process.
final class StallWriter: Sendable {
    private let process: Process
    private let writes = Mutex<[(end: Int64, duration: Int64)]>([])

    init(file: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["writer", file]
        let output = Pipe()
        process.standardOutput = output
        do { try process.run() } catch { fail("cannot start the writer: \(error)") }
        self.process = process
        let reading = output.fileHandleForReading
        Thread.detachNewThread { [self] in
            var pending = Data()
            while case let chunk = reading.availableData, !chunk.isEmpty {
                pending.append(chunk)
                guard let last = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
                let lines = String(decoding: pending[..<last], as: UTF8.self).split(separator: "\n")
                pending = Data(pending[(last + 1)...])
                let parsed = lines.compactMap { line -> (Int64, Int64)? in
                    let fields = line.split(separator: " ")
                    guard fields.count == 2, let end = Int64(fields[0]), let duration = Int64(fields[1]) else {
                        return nil
                    }
                    return (end, duration)
                }
                writes.withLock { $0 += parsed.map { (end: $0.0, duration: $0.1) } }
            }
        }
    }

    /// The longest write that was under way at any time in `window` (monotonic microseconds),
    /// in milliseconds, and how many writes ended in it.
    func longestWrite(in window: ClosedRange<Int64>) -> (longestMs: Double, count: Int) {
        writes.withLock { writes in
            let touching = writes.filter { $0.end >= window.lowerBound && $0.end - $0.duration <= window.upperBound }
            return (Double(touching.map(\.duration).max() ?? 0) / 1000, touching.count)
        }
    }

    /// SIGKILL: the child inherits a mask that blocks SIGTERM, and has nothing to clean up.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1000
    }

    /// The writer's own loop, in the child.
    static func runWriter(file: String) -> Never {
        let fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fail("writer: cannot open \(file): \(String(cString: strerror(errno)))") }
        let block = [UInt8](repeating: UInt8(ascii: "w"), count: 512)
        var count = 0
        while true {
            let start = now()
            guard write(fd, block, block.count) == block.count, fdatasync(fd) == 0 else {
                fail("writer: \(String(cString: strerror(errno)))")
            }
            let end = now()
            let line = Array("\(end) \(end - start)\n".utf8)
            guard write(1, line, line.count) == line.count else { exit(0) }
            count += 1
            // Stays within a small disk: start the file again now and then.
            if count % 20_000 == 0 { _ = ftruncate(fd, 0) }
        }
    }
}
