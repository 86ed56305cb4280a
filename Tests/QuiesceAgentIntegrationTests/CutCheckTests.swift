import Testing

@testable import QuiesceDemo

/// The proof's own check: it must accept every prefix-closed cut and catch every torn one.
@Suite("Cut check")
struct CutCheckTests {
    @Test func aCutWhereEveryLaterNumberIsOnEveryEarlierDiskIsConsistent() {
        #expect(CutCheck.check(logs: [[1, 2, 3], [1, 2, 3], [1, 2]], names: ["a", "b", "c"]).consistent)
        #expect(CutCheck.check(logs: [[1, 2, 3], [1, 2], [1]], names: ["a", "b", "c"]).consistent)
        #expect(CutCheck.check(logs: [[], [], []], names: ["a", "b", "c"]).consistent)
    }

    @Test func aNumberOnALaterDiskMissingFromAnEarlierOneTearsTheCut() {
        let torn = CutCheck.check(logs: [[1, 2], [1, 2, 3], [1, 2, 3]], names: ["a", "b", "c"])
        #expect(!torn.consistent)
        #expect(torn.violation == "3 is on b but not on a, which the writer wrote first")
        #expect(torn.highest == [2, 3, 3])
        #expect(!CutCheck.check(logs: [[1, 2, 3], [1], [1, 2]], names: ["a", "b", "c"]).consistent, "c ahead of b")
    }
}
