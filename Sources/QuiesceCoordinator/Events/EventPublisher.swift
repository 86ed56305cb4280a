import Foundation
import QuiesceAPI
import QuiesceHTTPClient
import QuiesceSystem
import Synchronization

/// Keeps the events `quiesce serve` raises and delivers them to the inventory's webhooks: each
/// event is stored with a pending delivery per webhook before anything is sent, each attempt's
/// answer is recorded, a failed attempt is tried again after a wait that doubles (up to an hour)
/// until the webhook's attempts are used, and what is still pending when the service stops is
/// sent when it starts again. An unreachable webhook loses no event.
public final class EventPublisher: Service {
    private let store: HistoryStore
    private let webhooks: [String: FleetInventory.Webhook]
    private let client: CurlClient
    private let log: @Sendable (String) -> Void
    private let doorbell = Doorbell()

    public init(
        store: HistoryStore, webhooks: [FleetInventory.Webhook], client: CurlClient,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.webhooks = Dictionary(webhooks.map { ($0.url, $0) }) { first, _ in first }
        self.client = client
        self.log = log
    }

    /// Stores `events` with their deliveries and tells the delivery loop. Never throws: an event
    /// that cannot be stored is at least in the log.
    public func publish(_ events: [FleetEvent]) async {
        guard !events.isEmpty else { return }
        for event in events { log("event \(event.kind.rawValue): \(event.message)") }
        do {
            try await store.record(events, webhooks: Array(webhooks.values), now: Date())
            doorbell.ring()
        } catch {
            log("cannot keep \(events.count) events: \(error)")
        }
    }

    public func run(shutdown: GracefulShutdown) async throws {
        guard !webhooks.isEmpty else {
            // Nothing to deliver; a service that returned early would end the others.
            await shutdown.wait()
            return
        }
        while !shutdown.isTriggered {
            await deliverDue()
            let next = try? await store.nextDeliveryDue()
            let wait = next.map { max(0, $0.timeIntervalSinceNow) } ?? 3600
            // Until the next delivery is due, an event is published, or the service stops.
            let doorbell = doorbell
            try? await shutdown.cancelling { await doorbell.wait(atMostSeconds: min(wait, 3600)) }
        }
    }

    /// Every delivery due now, concurrently, each attempt recorded.
    private func deliverDue() async {
        let due: [(EventDelivery, FleetEvent)]
        do {
            due = try await store.dueDeliveries(now: Date())
        } catch {
            log("cannot read the pending deliveries: \(error)")
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for (delivery, event) in due {
                guard let webhook = webhooks[delivery.webhook] else { continue }
                group.addTask { await self.attempt(delivery, of: event, to: webhook) }
            }
        }
    }

    private func attempt(_ delivery: EventDelivery, of event: FleetEvent, to webhook: FleetInventory.Webhook) async {
        var delivery = delivery
        delivery.attempts += 1
        let outcome = await send(event, to: webhook)
        delivery.lastStatus = outcome.status
        delivery.lastError = outcome.error
        if outcome.error == nil {
            delivery.state = .delivered
        } else if delivery.attempts >= webhook.maxAttempts {
            delivery.state = .failed
            log(
                "gave up delivering event \(event.id) (\(event.kind.rawValue)) to \(webhook.url) after "
                    + "\(delivery.attempts) attempts: \(outcome.error ?? "")")
        } else {
            let wait = min(Double(webhook.firstRetrySeconds) * pow(2, Double(delivery.attempts - 1)), 3600)
            delivery.nextAttemptAt = Date().addingTimeInterval(wait)
        }
        do {
            try await store.update(delivery)
        } catch {
            log("cannot record the delivery of event \(event.id) to \(webhook.url): \(error)")
        }
    }

    /// One POST; an error in words unless the webhook answered 2xx.
    private func send(_ event: FleetEvent, to webhook: FleetInventory.Webhook) async -> (status: Int?, error: String?) {
        var headers = [(name: "Content-Type", value: "application/json")]
        if let tokenFile = webhook.tokenFile {
            if let exposed = TokenFiles.exposure(of: tokenFile, what: "the webhook's token file") {
                return (nil, exposed)
            }
            guard let token = try? FileReader.text(tokenFile).trimmingWhitespace(), !token.isEmpty else {
                return (nil, "cannot read the webhook's token file \(tokenFile)")
            }
            headers.append((name: "Authorization", value: "Bearer \(token)"))
        }
        let body: [UInt8]
        do {
            body = try QuiesceJSON.encode(event)
        } catch {
            return (nil, "cannot encode the event: \(error)")
        }
        do {
            let answer = try await client.send(
                HTTPClientRequest(
                    method: "POST", url: webhook.url, headers: headers, body: body, timeout: .seconds(10),
                    maxResponseBytes: 64 << 10, keepConnection: false))
            return (200..<300).contains(answer.status)
                ? (answer.status, nil) : (answer.status, "answered \(answer.status)")
        } catch {
            return (nil, "\(error)")
        }
    }
}

/// Wakes the delivery loop: a ring while it is not waiting is kept for its next wait.
private final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: AsyncStream<Void>.Continuation?
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.finish()
    }

    /// Returns when rung (or already rung), after `seconds`, or when the task is cancelled.
    func wait(atMostSeconds seconds: Double) async {
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        let rung = state.withLock { state in
            if state.rung {
                state.rung = false
                return true
            }
            state.waiter = continuation
            return false
        }
        guard !rung else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in stream {} }
            group.addTask { try? await Task.sleep(for: .seconds(seconds)) }
            await group.next()
            group.cancelAll()
        }
        state.withLock { $0.waiter = nil }
    }
}
