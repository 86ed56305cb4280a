import Foundation
import QuiesceAPI

/// One event's delivery to one webhook: pending until it is answered 2xx (delivered) or has
/// used its attempts (failed), each attempt's answer or error kept.
public struct EventDelivery: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case pending
        case delivered
        case failed
    }

    public var eventId: String
    public var webhook: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?

    public init(eventId: String, webhook: String, nextAttemptAt: Date) {
        self.eventId = eventId
        self.webhook = webhook
        state = .pending
        attempts = 0
        self.nextAttemptAt = nextAttemptAt
    }

    init(row: SQLRow) throws(HistoryError) {
        eventId = try row.text("eventId")
        webhook = try row.text("webhook")
        state = try row.enumeration("state")
        attempts = Int(try row.integer("attempts"))
        nextAttemptAt = try row.date("nextAttemptAt")
        lastStatus = try row.optionalInteger("lastStatus").map(Int.init)
        lastError = try row.optionalText("lastError")
    }

    var binds: [SQLValue] {
        [
            .text(state.rawValue), SQLValue(attempts), .date(nextAttemptAt), SQLValue(lastStatus.map(Int64.init)),
            SQLValue(lastError), .text(eventId), .text(webhook),
        ]
    }
}

extension HistoryStore {
    /// Keeps `events`, each with a pending delivery to every webhook that wants it, in one
    /// transaction: an event is never stored without its deliveries, nor the other way round.
    public func record(
        _ events: [FleetEvent], webhooks: [FleetInventory.Webhook], now: Date
    ) async throws(HistoryError) {
        guard !events.isEmpty else { return }
        var eventRows: [[SQLValue]] = []
        var deliveryRows: [[SQLValue]] = []
        for event in events {
            let body: String
            do {
                body = String(decoding: try QuiesceJSON.encode(event), as: UTF8.self)
            } catch {
                throw HistoryError(message: "cannot encode event \(event.id): \(error)")
            }
            eventRows.append([.text(event.id), .date(event.time), .text(event.kind.rawValue), .text(body)])
            for webhook in webhooks where webhook.wants(event) {
                deliveryRows.append(EventDelivery(eventId: event.id, webhook: webhook.url, nextAttemptAt: now).binds)
            }
        }
        var statements = [SQLStatement("INSERT INTO event (id, time, kind, body) VALUES (?, ?, ?, ?)", rows: eventRows)]
        if !deliveryRows.isEmpty {
            statements.append(
                SQLStatement(
                    """
                    INSERT INTO delivery (state, attempts, nextAttemptAt, lastStatus, lastError, eventId, webhook)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, rows: deliveryRows))
        }
        try await transaction(statements)
    }

    /// The newest events first.
    public func events(limit: Int = 100) async throws(HistoryError) -> [FleetEvent] {
        var events: [FleetEvent] = []
        for row in try await read("SELECT body FROM event ORDER BY time DESC LIMIT ?", [SQLValue(limit)]) {
            let body = try row.text("body")
            if let event = try? QuiesceJSON.decode(FleetEvent.self, from: body.utf8) {
                events.append(event)
            }
        }
        return events
    }

    /// Pending deliveries due by `now`, with their events, oldest first.
    public func dueDeliveries(now: Date, limit: Int = 64) async throws(HistoryError) -> [(EventDelivery, FleetEvent)] {
        let rows = try await read(
            """
            SELECT delivery.*, event.body AS body FROM delivery JOIN event ON event.id = delivery.eventId
            WHERE delivery.state = ? AND delivery.nextAttemptAt <= ? ORDER BY delivery.nextAttemptAt LIMIT ?
            """,
            [.text(EventDelivery.State.pending.rawValue), .date(now), SQLValue(limit)])
        var due: [(EventDelivery, FleetEvent)] = []
        for row in rows {
            let delivery = try EventDelivery(row: row)
            let body = try row.text("body")
            if let event = try? QuiesceJSON.decode(FleetEvent.self, from: body.utf8) {
                due.append((delivery, event))
            }
        }
        return due
    }

    /// When the next pending delivery is due.
    public func nextDeliveryDue() async throws(HistoryError) -> Date? {
        try await read(
            "SELECT MIN(nextAttemptAt) AS due FROM delivery WHERE state = ?",
            [.text(EventDelivery.State.pending.rawValue)]
        ).first?.optionalDate("due")
    }

    public func update(_ delivery: EventDelivery) async throws(HistoryError) {
        try await write(
            SQLStatement(
                """
                UPDATE delivery SET state = ?, attempts = ?, nextAttemptAt = ?, lastStatus = ?, lastError = ?
                WHERE eventId = ? AND webhook = ?
                """, delivery.binds))
    }

    /// Every delivery of `eventId`.
    public func deliveries(of eventId: String) async throws(HistoryError) -> [EventDelivery] {
        try await read("SELECT * FROM delivery WHERE eventId = ?", [.text(eventId)]).map { row throws(HistoryError) in
            try EventDelivery(row: row)
        }
    }

    /// How many events of each kind, and deliveries in each state, for `/metrics`.
    public func eventCounts() async throws(HistoryError) -> (events: [String: Int], deliveries: [String: Int]) {
        func counts(_ sql: String, by column: String) async throws(HistoryError) -> [String: Int] {
            var counts: [String: Int] = [:]
            for row in try await read(sql, []) { counts[try row.text(column)] = Int(try row.integer("n")) }
            return counts
        }
        return (
            try await counts("SELECT kind, COUNT(*) AS n FROM event GROUP BY kind", by: "kind"),
            try await counts("SELECT state, COUNT(*) AS n FROM delivery GROUP BY state", by: "state")
        )
    }
}
