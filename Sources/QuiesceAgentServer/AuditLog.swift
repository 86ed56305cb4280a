import FoundationEssentials
import QuiesceAPI
import QuiesceSystem
import Synchronization

/// The append-only audit log: one JSON line per mutating request (allowed or not) with the
/// time, the peer, the route, the answer and the SHA-256 of the body. Lines are held in memory
/// while a freeze is held (the log may live on a frozen file system) and written after the thaw.
///
/// Anyone who can connect can make entries, so they are bounded: a path is cut to
/// `maximumPathLength` characters, and at most `maximumPending` entries wait in memory; beyond
/// that they are counted, and the count is written as a line of its own.
public final class AuditLog: Sendable {
    public static let maximumPathLength = 256
    public static let maximumPending = 10_000

    public struct Entry: Codable, Sendable {
        public var time: Date
        public var peer: String
        public var method: String
        public var path: String
        public var status: UInt
        public var bodySHA256: String?

        public init(time: Date, peer: String, method: String, path: String, status: UInt, bodySHA256: String?) {
            self.time = time
            self.peer = peer
            self.method = String(method.prefix(16))
            self.path =
                path.count > AuditLog.maximumPathLength
                ? String(path.prefix(AuditLog.maximumPathLength)) + "...(\(path.utf8.count) bytes)" : path
            self.status = status
            self.bodySHA256 = bodySHA256
        }
    }

    /// Written in place of the entries that did not fit in memory.
    struct Dropped: Codable {
        var time: Date
        var droppedEntries: Int
    }

    private struct Pending {
        var entries: [Entry] = []
        var dropped = 0
    }

    public let path: String
    private let pending = Mutex(Pending())

    public init(path: String) { self.path = path }

    /// Records an entry; writes everything pending unless `frozen`.
    public func record(_ entry: Entry, frozen: Bool) {
        pending.withLock { pending in
            if pending.entries.count < Self.maximumPending {
                pending.entries.append(entry)
            } else {
                pending.dropped += 1
            }
        }
        if !frozen { flush() }
    }

    /// Writes what is pending. A write that fails keeps the entries for the next try.
    public func flush() {
        let taken = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        guard !taken.entries.isEmpty || taken.dropped > 0 else { return }
        var bytes: [UInt8] = []
        for entry in taken.entries {
            guard let line = try? QuiesceJSON.encode(entry) else { continue }
            bytes += line + [UInt8(ascii: "\n")]
        }
        if taken.dropped > 0, let line = try? QuiesceJSON.encode(Dropped(time: Date(), droppedEntries: taken.dropped)) {
            bytes += line + [UInt8(ascii: "\n")]
        }
        do {
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                try Directory.make(String(path[..<slash]), mode: 0o700)
            }
            try AppendFile.append(bytes, to: path, mode: 0o600)
        } catch {
            pending.withLock { pending in
                let room = max(0, Self.maximumPending - pending.entries.count)
                pending.dropped += taken.dropped + max(0, taken.entries.count - room)
                pending.entries.insert(contentsOf: taken.entries.prefix(room), at: 0)
            }
        }
    }

    /// Entries waiting to be written.
    public var pendingCount: Int { pending.withLock { $0.entries.count + ($0.dropped > 0 ? 1 : 0) } }
}
