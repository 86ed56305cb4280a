import Glibc
import QuiesceSystem
import Synchronization
import Testing

/// The daemons' graceful shutdown: the order services stop in, what a failure or a signal does,
/// and the deadline that cuts off a service that does not stop.
@Suite struct ServiceRunnerTests {
    /// Runs until asked to stop, then takes a moment to finish, writing down both.
    struct Recorder: Service {
        let name: String
        let events: Events
        var ignoresShutdown = false
        var failsAfter: Duration?

        func run(shutdown: GracefulShutdown) async throws {
            events.add("\(name) started")
            if let failsAfter {
                try await Task.sleep(for: failsAfter)
                throw RecorderFailure()
            }
            if ignoresShutdown {
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    events.add("\(name) cancelled")
                    throw error
                }
            }
            await shutdown.wait()
            events.add("\(name) stopping")
            try await Task.sleep(for: .milliseconds(20))
            events.add("\(name) stopped")
        }
    }

    struct RecorderFailure: Error {}

    final class Events: Sendable {
        private let list = Mutex<[String]>([])
        func add(_ event: String) { list.withLock { $0.append(event) } }
        var all: [String] { list.withLock { $0 } }
        func waitFor(_ count: Int) async {
            while list.withLock({ $0.count }) < count { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }

    @Test func servicesStopInReverseOrderEachFinishingBeforeTheNextIsAsked() async throws {
        let events = Events()
        var runner = ServiceRunner(services: ["server", "sessions"].map { Recorder(name: $0, events: events) })
        runner.signals = []
        let running = Task { [runner] in try await runner.run() }
        await events.waitFor(2)
        runner.triggerGracefulShutdown()
        try await running.value
        #expect(
            events.all.suffix(4) == ["sessions stopping", "sessions stopped", "server stopping", "server stopped"])
    }

    /// Twice, as the agent runs its services again once enrolled: the second trap must still get
    /// the signal.
    @Test func aSignalStartsTheGracefulShutdownEachTime() async throws {
        for _ in 1...2 {
            let events = Events()
            var runner = ServiceRunner(services: [Recorder(name: "server", events: events)])
            // A signal no other test uses: the trap ignores it in this process from now on.
            runner.signals = [SIGUSR2]
            let running = Task { [runner] in try await runner.run() }
            await events.waitFor(1)
            kill(getpid(), SIGUSR2)
            try await running.value
            #expect(events.all == ["server started", "server stopping", "server stopped"])
        }
    }

    @Test func aFailingServiceCancelsTheOthersAndItsErrorIsRethrown() async {
        let events = Events()
        var runner = ServiceRunner(services: [
            Recorder(name: "server", events: events, ignoresShutdown: true),
            Recorder(name: "sessions", events: events, failsAfter: .milliseconds(20)),
        ])
        runner.signals = []
        await #expect(throws: RecorderFailure.self) { try await runner.run() }
        #expect(events.all.contains("server cancelled"))
    }

    @Test func theDeadlineCancelsAServiceThatDoesNotStop() async throws {
        let events = Events()
        var runner = ServiceRunner(
            services: [Recorder(name: "stubborn", events: events, ignoresShutdown: true)],
            shutdownDeadline: .milliseconds(50))
        runner.signals = []
        let running = Task { [runner] in try await runner.run() }
        await events.waitFor(1)
        runner.triggerGracefulShutdown()
        await #expect(throws: ShutdownDeadlinePassed.self) { try await running.value }
        #expect(events.all == ["stubborn started", "stubborn cancelled"])
    }

    @Test func aShutdownRunsItsActionsOnceAndWakesItsWaiters() async throws {
        let shutdown = GracefulShutdown()
        let calls = Mutex(0)
        shutdown.onTrigger { calls.withLock { $0 += 1 } }
        let waiter = Task { await shutdown.wait() }
        shutdown.trigger()
        shutdown.trigger()
        await waiter.value
        shutdown.onTrigger { calls.withLock { $0 += 10 } }
        #expect(calls.withLock { $0 } == 11)
        #expect(shutdown.isTriggered)
    }

    @Test func cancellingEndsTheBodyOnTriggerAndNotBefore() async throws {
        let shutdown = GracefulShutdown()
        let ended = Mutex(false)
        let running = Task {
            try await shutdown.cancelling {
                try await Task.sleep(for: .seconds(60))
                ended.withLock { $0 = true }
            }
        }
        try await Task.sleep(for: .milliseconds(20))
        shutdown.trigger()
        await #expect(throws: CancellationError.self) { try await running.value }
        #expect(!ended.withLock { $0 })
        // A body that ends by itself is not waited on.
        try await GracefulShutdown().cancelling {}
    }
}
