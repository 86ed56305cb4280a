/// What `quiesce-agent thaw-all` did to each mount.
public struct ThawAllReport: Codable, Sendable {
    public struct Mount: Codable, Sendable, Equatable {
        public enum Result: String, Codable, Sendable {
            /// It was frozen and is thawed now.
            case thawed
            /// It was not frozen.
            case notFrozen
            /// FITHAW failed; it may still be frozen.
            case failed
        }

        public var mountPoint: String
        public var result: Result
        /// Why it was tried: `candidate` (the freeze plan) and/or `guardRecord` (a freeze guard
        /// noted it and may have left it frozen).
        public var sources: [String]
        public var message: String?

        public init(mountPoint: String, result: Result, sources: [String], message: String? = nil) {
            self.mountPoint = mountPoint
            self.result = result
            self.sources = sources
            self.message = message
        }
    }

    public var mounts: [Mount]
    /// Problems finding the mounts, e.g. an unreadable mount table.
    public var errors: [String]

    public init(mounts: [Mount], errors: [String]) {
        self.mounts = mounts
        self.errors = errors
    }
}
