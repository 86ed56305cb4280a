import Foundation

/// The application of the demo and of the consistency proof: appends k to `seq.log` on the
/// first disk, then the second, then the third..., fsync after each, for k = 1, 2, 3... without
/// pause. A consistent cut of the disks must therefore show, for every k on a later disk, k on
/// every earlier one. It is its own process: a write to a frozen disk blocks it, not us.
public final class SequenceWriter: Sendable {
    private let process: Process

    public init(disks: [String]) throws {
        let writes = disks.map { "echo $k >> '\($0)/seq.log' && sync '\($0)/seq.log'" }.joined(separator: " && ")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "k=1; while :; do \(writes) || exit 1; k=$((k + 1)); done"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    /// Stops the writer and waits for it. If a disk is still frozen the writer sleeps in the
    /// kernel until the thaw; SIGKILL lands then.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

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
            ((try? String(contentsOfFile: "\(directory)/seq.log", encoding: .utf8)) ?? "").split(separator: "\n").compactMap { Int($0) }
        }
        return check(logs: logs, names: directories)
    }

    static func check(logs: [[Int]], names: [String]) -> CutCheck {
        let sets = logs.map(Set.init)
        var result = CutCheck(highest: logs.map { $0.max() ?? 0 }, violation: nil)
        for later in sets.indices.dropFirst() {
            for earlier in 0..<later {
                if let missing = sets[later].subtracting(sets[earlier]).min() {
                    result.violation = "\(missing) is on \(names[later]) but not on \(names[earlier]), which the writer wrote first"
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
