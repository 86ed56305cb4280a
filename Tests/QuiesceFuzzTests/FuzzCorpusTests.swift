import Foundation
import QuiesceFuzzTargets
import Testing

/// Every seed input and every crash the fuzzers ever found, replayed through its target: a crash
/// found once stays fixed.
@Suite("Fuzz corpora")
struct FuzzCorpusTests {
    /// `Fuzz/` at the top of the repository.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz").path

    @Test(arguments: FuzzTarget.allCases)
    func everySeedAndEveryCrashFoundIsParsedWithoutACrash(target: FuzzTarget) throws {
        let seeds = FuzzTarget.inputs(at: "\(Self.root)/corpus/\(target.rawValue)")
        #expect(seeds.count >= 3, "each target has seeds to start from")
        let regressions = FuzzTarget.inputs(at: "\(Self.root)/regressions/\(target.rawValue)")
            .filter { FileManager.default.fileExists(atPath: $0) }
        for input in seeds + regressions {
            target.run(Array(try Data(contentsOf: URL(fileURLWithPath: input))))
        }
    }
}
