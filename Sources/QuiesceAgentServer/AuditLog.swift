import FoundationEssentials
import QuiesceAPI
import QuiesceSystem
import Synchronization

/// The append-only audit log: one JSON line per mutating request (allowed or not) with the
/// time, the peer, the route, the answer and the SHA-256 of the body. Lines are held in memory
/// while a freeze is held (the log may live on a frozen file system) and written after the thaw.
public final class AuditLog: Sendable {
    public struct Entry: Codable, Sendable {
        public var time: Date
        public var peer: String
        public var method: String
        public var path: String
        public var status: UInt
        public var bodySHA256: String?
    }

    public let path: String
    private let pending = Mutex<[Entry]>([])

    public init(path: String) { self.path = path }

    /// Records an entry; writes everything pending unless `frozen`.
    public func record(_ entry: Entry, frozen: Bool) {
        pending.withLock { $0.append(entry) }
        if !frozen { flush() }
    }

    /// Writes what is pending. A write that fails keeps the entries for the next try.
    public func flush() {
        let entries = pending.withLock { entries in
            defer { entries.removeAll() }
            return entries
        }
        guard !entries.isEmpty else { return }
        let encoder = QuiesceJSON.encoder()
        var bytes: [UInt8] = []
        for entry in entries {
            guard let line = try? encoder.encode(entry) else { continue }
            bytes += line
            bytes.append(UInt8(ascii: "\n"))
        }
        do {
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                try Directory.make(String(path[..<slash]), mode: 0o700)
            }
            try AppendFile.append(bytes, to: path, mode: 0o600)
        } catch {
            pending.withLock { $0.insert(contentsOf: entries, at: 0) }
        }
    }

    /// Entries waiting to be written.
    public var pendingCount: Int { pending.withLock { $0.count } }
}
