import ArgumentParser
import QuiesceAPI
import QuiesceCoordinator

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List the events quiesce serve raised, newest first, with their webhook deliveries.",
        discussion:
            "Each event with what became of its delivery to each webhook: delivered, pending (the next attempt's "
            + "time) or failed, with the last answer or error. `quiesce show RUN` has the run that raised it."
    )

    @OptionGroup var state: HistoryOptions

    @Option(help: "How many events to list.")
    var limit = 20

    @Flag(help: "Print one JSON object on standard output.")
    var json = false

    struct Listing: Encodable {
        struct Entry: Encodable {
            var event: FleetEvent
            var deliveries: [EventDelivery]
        }

        var events: [Entry]
    }

    func run() async throws {
        let history = try await state.history()
        var events: [Listing.Entry] = []
        for event in try await history.events(limit: limit) {
            events.append(Listing.Entry(event: event, deliveries: try await history.deliveries(of: event.id)))
        }
        if json {
            try printJSON(Listing(events: events))
            return
        }
        if events.isEmpty { print("no events in \(history.location)") }
        for entry in events {
            let event = entry.event
            let run = event.runId.map { " (run \($0))" } ?? ""
            print("\(HistoryRun.timestamp(event.time))  \(event.kind.rawValue)  \(event.message.printable)\(run)")
            for detail in event.details { print("    \(detail.printable)") }
            for delivery in entry.deliveries {
                let outcome =
                    switch delivery.state {
                    case .delivered: "delivered after \(delivery.attempts) attempt\(delivery.attempts == 1 ? "" : "s")"
                    case .pending: "pending, next attempt at \(HistoryRun.timestamp(delivery.nextAttemptAt))"
                    case .failed: "FAILED after \(delivery.attempts) attempts"
                    }
                let last = delivery.state == .delivered ? "" : delivery.lastError.map { ": \($0.printable)" } ?? ""
                print("    -> \(delivery.webhook): \(outcome)\(last)")
            }
        }
    }
}
