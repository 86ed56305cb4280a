/// How good a snapshot is, best first.
///
/// `Comparable` orders by quality, so the weakest of several levels is `min()`.
public enum Consistency: String, Codable, Sendable, CaseIterable, Comparable {
    case applicationConsistent
    case fileSystemConsistent
    case crashConsistent
    case none

    /// 3 for application consistency down to 0 for none, as `/metrics` reports it.
    public var rank: Int {
        switch self {
        case .applicationConsistent: 3
        case .fileSystemConsistent: 2
        case .crashConsistent: 1
        case .none: 0
        }
    }

    public static func < (lhs: Consistency, rhs: Consistency) -> Bool { lhs.rank < rhs.rank }
}
