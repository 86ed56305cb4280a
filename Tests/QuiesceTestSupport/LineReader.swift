import Foundation

/// Reads lines from a pipe with a timeout, without blocking Swift's cooperative pool.
public final class LineReader: @unchecked Sendable {
    private let handle: FileHandle
    private var buffer = Data()
    private let lock = NSLock()

    public init(_ handle: FileHandle) { self.handle = handle }

    /// The next line without its newline, or nil at end of file or after `seconds`.
    public func nextLine(within seconds: Double) async -> String? {
        (try? await onBlockingThread { self.readLine(until: Date().addingTimeInterval(seconds)) }) ?? nil
    }

    private func readLine(until deadline: Date) -> String? {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                return String(decoding: line, as: UTF8.self)
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var polled = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&polled, 1, Int32(left * 1000) + 1) > 0 else { continue }
            let chunk = handle.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }
}
