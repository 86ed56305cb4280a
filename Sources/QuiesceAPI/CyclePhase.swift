/// The step of a backup cycle an error belongs to.
public enum CyclePhase: String, Codable, Sendable, CaseIterable {
    case precheck
    case preScript
    case freeze
    case snapshot
    case thaw
    case postScript
}
