/// Keeps the last `limit` bytes of a stream however much passes through, in bounded memory.
public struct OutputTail: Sendable {
    public let limit: Int
    private var storage: [UInt8] = []
    /// Every byte seen, including those dropped from the front.
    public private(set) var totalBytes = 0

    public init(limit: Int = 64 * 1024) {
        self.limit = limit
        storage.reserveCapacity(limit)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += bytes.count
        storage.append(contentsOf: bytes.suffix(limit))
        // Trim in batches so a chatty stream costs amortised O(1) per byte.
        if storage.count > 2 * limit {
            storage.removeFirst(storage.count - limit)
        }
    }

    /// The kept bytes, at most `limit` of them.
    public var bytes: ArraySlice<UInt8> { storage.suffix(limit) }

    /// The kept bytes as text; invalid UTF-8 (including a character cut at the front) is repaired.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
