import QuiesceAPI
import QuiesceSystem

/// Everything decided before any script runs: which plugins there are, whether their configs,
/// host file and scripts may be used, and the policy that follows.
public struct Precheck: Sendable {
    /// Which row of the decision table the pre-check lands in.
    public enum Verdict: Sendable, Equatable {
        /// No plugin config file at all: snapshot without scripts.
        case notConfigured
        /// A config or host file is unusable (invalid, loose modes, not signed by a trusted key):
        /// snapshot without scripts, with the defaults.
        case configBroken
        /// A script is missing, breaks the permission rule or lacks a trusted signature:
        /// `continueBackupOnFailure` decides.
        case scriptsUnusable
        /// Every script may run.
        case ready
    }

    /// One plugin that loaded, with its effective budget.
    public struct Plugin: Sendable {
        public var name: String
        public var configPath: String
        public var config: PluginConfig
        /// `timeoutInSeconds` after the host file's or the agent's cap.
        public var budgetSeconds: Int
    }

    public var verdict: Verdict
    public var plugins: [Plugin]
    public var policy: CyclePolicy
    public var errors: [ReportedError] = []
    public var warnings: [ReportedError] = []
    /// Every file looked at, with its facts and broken rules.
    public var files: [FileCheck] = []
    /// A plugin config lacks a trusted signature: it is as unusable as one with loose modes.
    public var untrustedConfig = false
}
