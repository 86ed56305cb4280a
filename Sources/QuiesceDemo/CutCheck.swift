import Foundation
import QuiesceSystem

/// The proof: is a set of copies of the writer's disks a consistent cut?
public struct CutCheck: Sendable, Equatable, CustomStringConvertible {
    /// The highest k on each disk, in writer order.
    public var highest: [Int]
    /// The first k found on a later disk but missing from an earlier one.
    public var violation: String?

    public var consistent: Bool { violation == nil }

    /// Reads `seq.log` in each directory, in the writer's order.
    public static func check(_ directories: [String]) -> CutCheck {
        let logs = directories.map { directory in
            ((try? FileReader.text("\(directory)/seq.log", limit: 256 * 1024 * 1024)) ?? "").split(separator: "\n")
                .compactMap { Int($0) }
        }
        return check(logs: logs, names: directories)
    }

    static func check(logs: [[Int]], names: [String]) -> CutCheck {
        let sets = logs.map(Set.init)
        var result = CutCheck(highest: logs.map { $0.max() ?? 0 }, violation: nil)
        for later in sets.indices.dropFirst() {
            for earlier in 0..<later {
                if let missing = sets[later].subtracting(sets[earlier]).min() {
                    result.violation =
                        "\(missing) is on \(names[later]) but not on \(names[earlier]), which the writer wrote first"
                    return result
                }
            }
        }
        return result
    }

    public var description: String {
        "highest k per disk \(highest): " + (violation.map { "NOT a consistent cut: \($0)" } ?? "a consistent cut")
    }
}

extension CutCheck {
    /// A cut check as the demo reports it.
    public struct Summary: Encodable, Sendable {
        public var checked: Bool
        public var consistent: Bool
        public var highest: [Int]
        public var detail: String
    }
}
