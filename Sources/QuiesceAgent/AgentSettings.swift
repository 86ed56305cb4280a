import QuiesceAPI

/// The agent's own settings (`/etc/quiesce/agent.json`): where the framework's files are, what
/// to freeze and how to snapshot. Every key is optional; see `deploy/agent.json`.
public struct AgentSettings: Sendable, Equatable {
    public static let defaultPath = "/etc/quiesce/agent.json"

    public var pluginConfigPath = "/etc/azure/VMSnapshotScriptPluginConfig.json"
    public var pluginHostPath = "/etc/azure/VMSnapshotPluginHost.conf"
    /// The most any script's budget may be, unless the host file caps it lower. The original's
    /// fixed 1800 s is the default, and unlike there it can be raised.
    public var scriptTimeoutCapSeconds = 1800
    /// Between SIGTERM and SIGKILL to a timed-out script's process group.
    public var scriptKillGraceSeconds = 5
    /// The uid that must own the framework's files: 0. Only test harnesses change it.
    public var requiredOwnerUid: UInt32 = 0
    /// Where the agent notes the mounts each freeze guard holds, for `thaw-all`; on tmpfs, so
    /// it is never on a file system being frozen.
    public var stateDirectory = "/run/quiesce"
    public var freeze = Freeze()
    public var snapshot = Snapshot()
    public var server = Server()
    public var trust = Trust()

    public init() {}

    /// Who may say what the agent runs as root.
    public struct Trust: Sendable, Equatable {
        /// With any key here, a plugin config or script is written by a push, and run by a cycle,
        /// only with a valid signature (`FILE.sig`) by one of them.
        public var signingKeys: [TrustedKey] = []

        public init(signingKeys: [TrustedKey] = []) { self.signingKeys = signingKeys }
    }

    /// `quiesce-agent serve`: where it listens, who may talk to it, what it accepts.
    public struct Server: Sendable, Equatable {
        /// `host:port`; without TLS only a loopback address is accepted.
        public var listen = "127.0.0.1:7710"
        /// The bearer token, in a file owned by `requiredOwnerUid` with mode 0600 or 0400.
        public var tokenFile = "/etc/quiesce/agent.token"
        /// More token files accepted beside `tokenFile`: the new one during a rotation.
        public var tokenFiles: [String] = []
        /// TLS: the agent's certificate chain and key (PEM); with `clientCAFile`, clients must
        /// present a certificate that chains to it (mutual TLS).
        public var certificateFile: String?
        public var keyFile: String?
        public var clientCAFile: String?
        /// Enrollment (`quiesce enroll`): the one-time join token that lets the agent ask for a
        /// certificate, and where it keeps the key it makes, the certificate it is given and the
        /// CA it pins. Used only while no `tls` is set by hand.
        public var joinTokenFile = "/etc/quiesce/join-token"
        public var enrollmentDirectory = "/etc/quiesce/tls"
        /// Set for an enrolled agent: the client certificate the TLS handshake verified against
        /// the pinned CA is the credential, and no bearer token is asked for.
        public var certificateIsCredential = false
        /// Scripts pushed over the API may only be written under this directory.
        public var scriptRoot = "/etc/quiesce/scripts"
        /// One JSON line per mutating request, mode 0600.
        public var auditLogPath = "/var/log/quiesce/audit.log"
        public var configBodyLimit = 64 * 1024
        public var scriptBodyLimit = 1024 * 1024
        public var maxConcurrentRequests = 16
        /// Open connections at once; more are closed as they are accepted.
        public var maxConnections = 256
        /// Silence allowed between requests, and the time a request may take to arrive from its
        /// first byte; never a limit on a handler that runs.
        public var requestTimeoutSeconds = 30

        public init() {}
    }

    public struct Freeze: Sendable, Equatable {
        /// Mount points to freeze, in order. `nil` means discovery.
        public var mounts: [String]?
        /// Discovery leaves these mount points out.
        public var mountsToSkip: [String] = []
        /// Discovery includes file systems on loop devices, which the original framework skips.
        public var includeLoopDevices = false
        /// The longest a freeze may be held.
        public var timeoutSeconds = 60
        /// `syncfs` the mounts after the pre-scripts and again just before FIFREEZE, so the
        /// freeze itself, during which writers wait, has almost nothing left to flush.
        public var flushBeforeFreeze = true
        /// Expedite the kernel's RCU grace periods while the freeze is taken
        /// (`/sys/kernel/rcu_expedited`, put back at once): FIFREEZE waits for three of them.
        public var expediteGracePeriods = true

        public init(mounts: [String]? = nil, timeoutSeconds: Int = 60) {
            self.mounts = mounts
            self.timeoutSeconds = timeoutSeconds
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public enum Provider: String, Sendable, CaseIterable {
            /// Freeze only; the platform snapshots the disks from outside.
            case none
            /// Runs `command` while frozen.
            case command
            /// Read-only btrfs snapshots of `btrfs.subvolumes` (left unfrozen: btrfs snapshots are atomic).
            case btrfs
            /// LVM snapshots of `lvm.volumes`, taken while frozen.
            case lvm
        }

        public var provider = Provider.none
        /// argv of the `command` provider; argv[0] is an absolute path.
        public var command: [String] = []
        /// `command` provider, for retention: argv of programs that list its snapshots and delete
        /// one (`ManagedCommandSnapshotProvider`). Both or neither.
        public var listCommand: [String] = []
        public var deleteCommand: [String] = []
        /// How many disks the snapshot covers; 1 turns on the single-disk rule. `nil` = unknown,
        /// treated as several.
        public var diskCount: Int?
        /// The provider's time limit. A snapshot still running at the freeze deadline goes on;
        /// the guard thaws and the result is crash consistent.
        public var timeoutSeconds = 60
        /// `btrfs` provider: subvolume paths, and where their snapshots go, relative to each.
        public var btrfsSubvolumes: [String] = []
        public var btrfsDirectory = ".snapshots"
        /// `lvm` provider: origin volumes as `VG/LV`, and each snapshot's copy-on-write space.
        public var lvmVolumes: [String] = []
        public var lvmSize = "10%ORIGIN"

        public init(provider: Provider = .none, command: [String] = [], diskCount: Int? = nil) {
            self.provider = provider
            self.command = command
            self.diskCount = diskCount
        }
    }
}
