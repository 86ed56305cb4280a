import Foundation
import GRDB
import QuiesceAPI

/// One event's delivery to one webhook: pending until it is answered 2xx (delivered) or has
/// used its attempts (failed), each attempt's answer or error kept.
public struct EventDelivery: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "delivery"

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
}

extension HistoryStore {
    /// Keeps `events`, each with a pending delivery to every webhook that wants it, in one
    /// transaction: an event is never stored without its deliveries, nor the other way round.
    public func record(_ events: [FleetEvent], webhooks: [FleetInventory.Webhook], now: Date) throws(HistoryError) {
        let rows = try events.map { event throws(HistoryError) in
            do {
                return (event, String(decoding: try QuiesceJSON.encoder().encode(event), as: UTF8.self))
            } catch {
                throw HistoryError(message: "cannot encode event \(event.id): \(error)")
            }
        }
        try write { db in
            for (event, body) in rows {
                try db.execute(
                    sql: "INSERT INTO event (id, time, kind, body) VALUES (?, ?, ?, ?)",
                    arguments: [event.id, event.time, event.kind.rawValue, body])
                for webhook in webhooks where webhook.wants(event) {
                    try EventDelivery(eventId: event.id, webhook: webhook.url, nextAttemptAt: now).insert(db)
                }
            }
        }
    }

    /// The newest events first.
    public func events(limit: Int = 100) throws(HistoryError) -> [FleetEvent] {
        let bodies = try read { db in
            try String.fetchAll(db, sql: "SELECT body FROM event ORDER BY time DESC LIMIT ?", arguments: [limit])
        }
        return bodies.compactMap { try? QuiesceJSON.decoder().decode(FleetEvent.self, from: Data($0.utf8)) }
    }

    /// Pending deliveries due by `now`, with their events, oldest first.
    public func dueDeliveries(now: Date, limit: Int = 64) throws(HistoryError) -> [(EventDelivery, FleetEvent)] {
        let rows = try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT delivery.*, event.body AS body FROM delivery JOIN event ON event.id = delivery.eventId
                    WHERE delivery.state = ? AND delivery.nextAttemptAt <= ? ORDER BY delivery.nextAttemptAt LIMIT ?
                    """,
                arguments: [EventDelivery.State.pending.rawValue, now, limit]
            ).map { row in (try EventDelivery(row: row), row["body"] as String) }
        }
        return rows.compactMap { delivery, body in
            (try? QuiesceJSON.decoder().decode(FleetEvent.self, from: Data(body.utf8))).map { (delivery, $0) }
        }
    }

    /// When the next pending delivery is due.
    public func nextDeliveryDue() throws(HistoryError) -> Date? {
        try read { db in
            try Date.fetchOne(
                db, sql: "SELECT MIN(nextAttemptAt) FROM delivery WHERE state = ?",
                arguments: [EventDelivery.State.pending.rawValue])
        }
    }

    public func update(_ delivery: EventDelivery) throws(HistoryError) {
        try write { db in try delivery.update(db) }
    }

    /// Every delivery of `eventId`.
    public func deliveries(of eventId: String) throws(HistoryError) -> [EventDelivery] {
        try read { db in try EventDelivery.filter(Column("eventId") == eventId).fetchAll(db) }
    }

    /// How many events of each kind, and deliveries in each state, for `/metrics`.
    public func eventCounts() throws(HistoryError) -> (events: [String: Int], deliveries: [String: Int]) {
        try read { db in
            let events = try Row.fetchAll(db, sql: "SELECT kind, COUNT(*) AS n FROM event GROUP BY kind")
            let deliveries = try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM delivery GROUP BY state")
            return (
                Dictionary(uniqueKeysWithValues: events.map { ($0["kind"] as String, $0["n"] as Int) }),
                Dictionary(uniqueKeysWithValues: deliveries.map { ($0["state"] as String, $0["n"] as Int) })
            )
        }
    }
}
