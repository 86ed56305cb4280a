import QuiesceAPI
import Synchronization
import Testing

@Suite("Concurrent map")
struct ConcurrentMapTests {
    /// How many transforms run at once, and the most that ever did.
    private final class Gauge: Sendable {
        private let counts = Mutex((now: 0, most: 0))
        func enter() {
            counts.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
        }
        func leave() { counts.withLock { $0.now -= 1 } }
        var most: Int { counts.withLock { $0.most } }
    }

    @Test func atMostTheLimitRunAtOnceAndResultsKeepTheirOrder() async {
        let gauge = Gauge()
        let results = await Array(0..<40).concurrentMap(atMost: 3) { number in
            gauge.enter()
            // The first three wait for one another (for a while): they must run side by side.
            let deadline = ContinuousClock.now + .seconds(10)
            while number < 3, gauge.most < 3, ContinuousClock.now < deadline { await Task.yield() }
            try? await Task.sleep(for: .milliseconds(1))
            gauge.leave()
            return number * 2
        }
        #expect(results == Array(0..<40).map { $0 * 2 })
        #expect(gauge.most == 3, "the limit is a ceiling, not one at a time")
    }

    @Test func withoutALimitEveryElementStartsBeforeAnyFinishes() async {
        let gauge = Gauge()
        let started = Mutex(0)
        let results = await Array(0..<20).concurrentMap { number in
            gauge.enter()
            started.withLock { $0 += 1 }
            // Everyone waits for everyone: only possible when all run at once.
            while started.withLock({ $0 }) < 20 { await Task.yield() }
            gauge.leave()
            return number
        }
        #expect(results == Array(0..<20))
        #expect(gauge.most == 20)
        #expect(await [Int]().concurrentMap(atMost: 4) { $0 } == [])
    }
}
