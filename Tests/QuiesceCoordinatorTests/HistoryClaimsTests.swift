import Foundation
import QuiesceHistoryPostgres
import QuiesceTestSupport
import Testing

@testable import QuiesceCoordinator

extension HistoryOnEachDatabase {
    /// What coordinators sharing a store rely on, on each database: a planned run is claimed once
    /// however many claim it at the same moment, the schedule's last planned time survives, and
    /// events keep their deliveries.
    @Suite struct HistoryClaimsTests {
        @Test(arguments: HistoryBackend.allCases)
        func eachPlannedRunIsClaimedByExactlyOneOfThreeCoordinators(backend: HistoryBackend) async throws {
            try await backend.withStores(3) { stores in
                let start = Date(timeIntervalSince1970: 1_796_000_000)
                let planned = (0..<20).map { start.addingTimeInterval(Double($0) * 60) }
                let wins = try await withThrowingTaskGroup(of: [Date].self) { group in
                    for store in stores {
                        group.addTask {
                            var won: [Date] = []
                            for time in planned
                            where try await store.claim("snapshot/db", plannedAt: time, startedAt: time) {
                                won.append(time)
                            }
                            return won
                        }
                    }
                    return try await group.reduce(into: [Date]()) { $0 += $1 }
                }
                #expect(
                    wins.sorted() == planned, "every planned run claimed once: \(wins.count) claims of \(planned.count)"
                )
                #expect(try await stores[0].lastPlanned("snapshot/db") == planned.last)
                #expect(try await stores[1].scheduledRuns(job: "snapshot/db", limit: 100).count == planned.count)
            }
        }

        @Test(arguments: HistoryBackend.allCases)
        func aLostClaimIsSettledAsFailedUnlessAnotherCoordinatorHasTheRun(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let start = Date(timeIntervalSince1970: 1_796_000_000)
                let (landed, lost, others) = (start, start.addingTimeInterval(60), start.addingTimeInterval(120))
                let note = "not run: the history store did not confirm its claim"
                // The claim landed though its answer was lost; the claim never landed at all.
                #expect(try await store.claim("snapshot/db", plannedAt: landed, startedAt: landed))
                try await store.settleLostClaim("snapshot/db", plannedAt: landed, note: note)
                try await store.settleLostClaim("snapshot/db", plannedAt: lost, note: note)
                // Another coordinator's run is left as it is.
                try await store.recordNotRun(
                    ScheduledRun(job: "snapshot/db", plannedAt: others, state: .running, owner: "elsewhere:1"))
                try await store.settleLostClaim("snapshot/db", plannedAt: others, note: note)

                let rows = try await store.scheduledRuns(job: "snapshot/db").reversed().map { ($0.state, $0.note) }
                #expect(rows.map(\.0) == [.failed, .failed, .running])
                #expect(rows.prefix(2).allSatisfy { $0.1 == note })
                #expect(try await store.claim("snapshot/db", plannedAt: lost, startedAt: lost) == false)
            }
        }

        @Test(arguments: HistoryBackend.allCases)
        func eventsKeepTheirDeliveriesAndTheirCounts(backend: HistoryBackend) async throws {
            try await backend.withStore { store in
                let now = Date()
                let webhook = FleetInventory.Webhook(url: "http://127.0.0.1:1/hook")
                let events = [
                    FleetEvent(kind: .snapshotFailed, group: "db", runId: 7, message: "db failed"),
                    FleetEvent(kind: .vmDrifted, vm: "db-1", runId: 8, message: "db-1 drifted"),
                ]
                try await store.record(events, webhooks: [webhook], now: now)
                #expect(try await store.events().map(\.id).sorted() == events.map(\.id).sorted())
                let due = try await store.dueDeliveries(now: now.addingTimeInterval(1))
                #expect(due.count == 2)
                var delivery = try #require(due.first?.0)
                delivery.state = .failed
                delivery.attempts = 5
                delivery.lastStatus = 503
                delivery.lastError = "503 Service Unavailable"
                try await store.update(delivery)
                #expect(try await store.deliveries(of: delivery.eventId) == [delivery])
                let counts = try await store.eventCounts()
                #expect(counts.events == ["snapshotFailed": 1, "vmDrifted": 1])
                #expect(counts.deliveries == ["failed": 1, "pending": 1])
                #expect(try await store.nextDeliveryDue() != nil)
            }
        }
    }
}

extension HistoryOnEachDatabase {
    /// `--store` given something that is not a usable PostgreSQL: the error names the server or the
    /// part of the URL, and the remedy.
    @Suite(
        .enabled(if: HistoryPostgres.isInstalled || Privilege.isCI, "needs Debian's postgresql-15 (scripts/setup.sh)"))
    struct PostgresStoreErrorTests {
        @Test func malformedURLsAreRefusedNamingThePart() {
            let cases: [(String, String)] = [
                ("mysql://h/db", "not a postgresql:// URL"),
                ("postgresql://h:5432", "names no database"),
                ("postgresql://u@h/db?sslmode=maybe", "sslmode `maybe`"),
                ("postgresql://u@h/db?timeout=3", "unknown parameter `timeout`"),
            ]
            for (url, expected) in cases {
                #expect {
                    _ = try PostgresStoreURL(url, environment: [:])
                } throws: { error in
                    "\(error)".contains(expected)
                }
            }
            #expect(
                (try? PostgresStoreURL("postgresql://u:pw@h/db", environment: [:]).description)
                    == "postgresql://u@h:5432/db",
                "the password stays out of messages")
            #expect((try? PostgresStoreURL("postgresql://u@h/db", environment: ["PGPASSWORD": "pw"]).password) == "pw")
        }

        @Test func aServerThatIsNotThereIsNamedWithinTheTimeout() async throws {
            let port = try FreePorts.one()
            let url = try PostgresStoreURL("postgresql://quiesce@127.0.0.1:\(port)/history?sslmode=disable")
            await #expect {
                _ = try await PostgresHistoryDatabase(url, timeout: .seconds(3))
            } throws: { error in
                let message = "\(error)"
                return message.contains("127.0.0.1:\(port)/history")
                    && message.contains("check that PostgreSQL answers")
            }
        }

        @Test func aWrongPasswordIsTheServersOwnWords() async throws {
            let server = try #require(HistoryPostgres.shared)
            let url = try PostgresStoreURL(
                "postgresql://quiesce:wrong@127.0.0.1:\(server.port)/history?sslmode=disable")
            await #expect {
                _ = try await PostgresHistoryDatabase(url, timeout: .seconds(10))
            } throws: { error in
                "\(error)".contains("password authentication failed for user \"quiesce\"")
            }
        }
    }
}
