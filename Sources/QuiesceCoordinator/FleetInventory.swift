import QuiesceAPI

/// The fleet a coordinator drives (`fleet.example.json`): VMs with their agent addresses,
/// groups with their snapshot policy and deadlines, defaults, and references to secrets (token
/// and certificate files), never secrets themselves.
public struct FleetInventory: Sendable, Equatable {
    public var vms: [VM]
    public var groups: [String: Group]
    public var defaults: Defaults
    /// When `quiesce serve` sweeps the whole fleet; nil: it does not.
    public var sweepSchedule: CronSchedule?
    /// Where `quiesce serve` delivers its events.
    public var webhooks: [Webhook] = []

    /// An HTTP(S) endpoint that receives each event as a JSON POST, retried with back-off.
    public struct Webhook: Sendable, Equatable {
        public var url: String
        /// Only these kinds; nil: every kind.
        public var kinds: Set<FleetEvent.Kind>?
        /// Sent as `Authorization: Bearer <token>` when given; the file must be private (0600).
        public var tokenFile: String?
        /// Attempts in all before a delivery is given up (recorded as failed).
        public var maxAttempts = 8
        /// The wait before the second attempt; each further wait doubles, up to an hour.
        public var firstRetrySeconds = 5

        public func wants(_ event: FleetEvent) -> Bool { kinds?.contains(event.kind) ?? true }
    }

    public struct VM: Sendable, Equatable {
        public var name: String
        /// `host:port` of the agent.
        public var address: String
        public var groups: [String]
        public var labels: [String: String]
        /// This VM's token file; `defaults.tokenFile` when absent. None for an enrolled agent
        /// reached with mutual TLS: the coordinator's certificate is the credential.
        public var tokenFile: String?
        public var tls: TLSFiles?
        /// Plain HTTP to a non-loopback address is allowed only when this says so.
        public var insecurePlaintext = false

        /// Whether its token and files may go to it: over TLS, to a loopback address, or where
        /// the inventory accepts plaintext.
        public var transportIsSafe: Bool { tls != nil || insecurePlaintext || Loopback.contains(host: host) }

        /// The host part of `address`, without the brackets of an IPv6 address.
        public var host: String {
            address.hasPrefix("[")
                ? String(address.dropFirst().prefix { $0 != "]" }) : String(address.prefix { $0 != ":" })
        }
    }

    public struct Group: Sendable, Equatable {
        public enum Policy: String, Sendable, CaseIterable {
            /// Any member that cannot reach application consistency at prepare aborts the group.
            case requireAll
            /// Go on without it; the group is labelled with its weakest member's level.
            case bestEffort
        }

        public var name: String
        public var policy: Policy
        /// Deadlines of the group snapshot's phases, in seconds.
        public var deadlines: Deadlines
        /// Run once by the coordinator while every member is frozen, instead of each agent's
        /// provider: for cloud APIs that snapshot many disks in one call.
        public var snapshotCommand: [String]?
        /// Run by the coordinator once the group's snapshot is taken, to restore the copies
        /// somewhere and check the application's invariants; its failure fails the run.
        public var verifyCommand: [String]?
        /// When `quiesce serve` takes the group's snapshot; nil: only by hand.
        public var schedule: CronSchedule?
        /// Which of the group's snapshots `quiesce serve` keeps; nil: all of them.
        public var retention: RetentionPolicy?
    }

    public struct Deadlines: Sendable, Equatable {
        public var prepareSeconds = 120
        public var freezeSeconds = 10
        public var snapshotSeconds = 60
        public var thawSeconds = 10
        public var finishSeconds = 120
        public var verifySeconds = 600
    }

    public struct Defaults: Sendable, Equatable {
        public var tokenFile: String?
        public var tls: TLSFiles?
        public var insecurePlaintext = false
        /// Per-request timeout towards agents.
        public var requestTimeoutSeconds = 10
    }

    /// PEM files for TLS towards an agent: the CA that signed it, the coordinator's certificate and key.
    public struct TLSFiles: Sendable, Equatable {
        public var caFile: String?
        public var certificateFile: String?
        public var keyFile: String?
    }
}
