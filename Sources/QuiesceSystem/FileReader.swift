import SystemPackage

/// Reads small files whole, refusing ones larger than a limit so a wrong path can never make
/// the agent swallow a disk image.
public enum FileReader {
    public static func read(_ path: String, limit: Int = 1024 * 1024) throws(SystemError) -> [UInt8] {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch {
            throw SystemError(call: "open", subject: path, errno: (error as? Errno) ?? .ioError)
        }
        defer { try? fd.close() }
        // Chunks on the stack, never cleared: the files read are mostly a few hundred bytes.
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16 * 1024) {
            (chunk) throws(SystemError) -> [UInt8] in
            var bytes: [UInt8] = []
            while true {
                let count: Int
                do {
                    count = try fd.read(into: UnsafeMutableRawBufferPointer(chunk), retryOnInterrupt: true)
                } catch {
                    throw SystemError(call: "read", subject: path, errno: (error as? Errno) ?? .ioError)
                }
                if count == 0 { return bytes }
                bytes.append(contentsOf: chunk[..<count])
                if bytes.count > limit {
                    throw SystemError(call: "read", subject: path, errno: .fileTooLarge)
                }
            }
        }
    }

    /// The file as UTF-8 text (invalid bytes replaced). Also for files another process is still
    /// appending to: Foundation's `String(contentsOfFile:)` leaks a buffer on those.
    public static func text(_ path: String, limit: Int = 1024 * 1024) throws(SystemError) -> String {
        String(decoding: try read(path, limit: limit), as: UTF8.self)
    }
}
