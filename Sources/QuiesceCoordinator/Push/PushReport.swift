import QuiesceAPI

/// What a push did on every VM, with the hashes it sent.
public struct PushReport: Codable, Sendable {
    public enum Status: String, Codable, Sendable {
        /// At least one file changed.
        case pushed
        /// Every file already had exactly this content.
        case unchanged
        /// The agent refused a file or answered nonsense; `problem` says which and why.
        case failed
        /// Nothing answered.
        case unreachable
        /// A snapshot session was under way (its freeze may be held); push again after it.
        case skipped
        /// The canary failed, so this VM was left alone.
        case notAttempted
        /// `--dry-run`: would be pushed.
        case planned

        var succeeded: Bool { self == .pushed || self == .unchanged || self == .planned }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var total = 0
        public var pushed = 0
        public var unchanged = 0
        public var failed = 0
        public var unreachable = 0
        public var skipped = 0
        public var notAttempted = 0
    }

    public struct WrittenFile: Codable, Sendable, Equatable {
        public var role: FileCheck.Role
        /// Where the agent wrote it.
        public var path: String
        public var changed: Bool
    }

    public struct VM: Codable, Sendable {
        public var name: String
        public var address: String
        public var status: Status
        public var canary: Bool
        public var written: [WrittenFile] = []
        public var problem: String?
    }

    public struct CanaryVerdict: Codable, Sendable, Equatable {
        public var vms: [String]
        public var passed: Bool
        public var reason: String?
    }

    public var dryRun: Bool
    public var summary: Summary
    /// The SHA-256 of each file sent, by role.
    public var hashes: [String: String]
    public var canary: CanaryVerdict?
    /// Failing VMs first.
    public var vms: [VM]

    public var succeeded: Bool { vms.allSatisfy(\.status.succeeded) }

    init(bundle: PushBundle, vms: [VM], canary: CanaryVerdict?, dryRun: Bool = false) {
        self.dryRun = dryRun
        self.canary = canary
        hashes = Dictionary(uniqueKeysWithValues: bundle.files.map { ($0.role.rawValue, $0.sha256) })
        var summary = Summary(total: vms.count)
        for vm in vms {
            switch vm.status {
            case .pushed: summary.pushed += 1
            case .unchanged: summary.unchanged += 1
            case .failed: summary.failed += 1
            case .unreachable: summary.unreachable += 1
            case .skipped: summary.skipped += 1
            case .notAttempted: summary.notAttempted += 1
            case .planned: break
            }
        }
        self.summary = summary
        self.vms = vms.filter { !$0.status.succeeded } + vms.filter(\.status.succeeded)
    }
}
