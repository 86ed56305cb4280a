import FoundationEssentials

/// The agent's HTTP API, version 1: every path in one place, used by the agent's router and the
/// coordinator's client alike. A path with a parameter is a template (`:phase` a segment) that
/// the agent routes by, and a function that fills it in for a client. See docs/api.md.
public enum AgentRoutes {
    public static let health = "/v1/health"
    public static let version = "/v1/version"
    public static let pluginConfig = "/v1/plugin-config"
    public static let scriptTemplate = "/v1/scripts/:phase"
    /// `/v1/scripts/pre` or `/v1/scripts/post`.
    public static func script(_ phase: ScriptPhase) -> String { fill(scriptTemplate, ["phase": phase.rawValue]) }
    /// The plugin config and its scripts in one request, checked together, written together.
    public static let bundle = "/v1/bundle"
    public static let compliance = "/v1/compliance"
    public static let metrics = "/v1/metrics"
    /// The snapshots this agent's provider keeps here (btrfs, lvm), and retention carried out.
    public static let snapshots = "/v1/snapshots"
    public static let snapshotsPrune = "/v1/snapshots/prune"

    /// The header carrying a script body's SHA-256, lowercase hex.
    public static let contentSHA256Header = "X-Content-SHA256"

    /// `template` with each `:name` segment replaced by `values[name]`.
    static func fill(_ template: String, _ values: [String: String]) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? values[String(segment.dropFirst())] ?? String(segment) : String(segment)
        }.joined(separator: "/")
    }
}

/// `GET /v1/health`: little, and without authentication.
public struct AgentHealth: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var frozen: Bool

    public init(name: String, version: String, frozen: Bool) {
        self.name = name
        self.version = version
        self.frozen = frozen
    }
}

/// `GET /v1/version`.
public struct AgentVersion: Codable, Sendable, Equatable {
    public var version: String
    public var hostname: String
    public var frozen: Bool
    public var activeSession: String?
    /// When the agent's TLS certificate expires; nil without TLS.
    public var certificateNotAfter: Date?

    public init(
        version: String, hostname: String, frozen: Bool, activeSession: String?, certificateNotAfter: Date? = nil
    ) {
        self.version = version
        self.hostname = hostname
        self.frozen = frozen
        self.activeSession = activeSession
        self.certificateNotAfter = certificateNotAfter
    }
}

/// An error that says how the agent's API answers it: an HTTP status, a stable code, what to do
/// about it. Handlers throw these and the server renders them, in one place.
public protocol APIError: Error {
    /// The HTTP status, e.g. 409.
    var httpStatus: Int { get }
    var code: ErrorCode { get }
    /// What happened and what to do about it.
    var message: String { get }
    /// Further problems, e.g. every one of an invalid plugin config.
    var details: [String] { get }
}

extension APIError {
    public var details: [String] { [] }

    /// What goes on the wire.
    public var body: APIErrorBody {
        APIErrorBody(code: code, message: message, details: details.isEmpty ? nil : details)
    }
}

/// The body of every 4xx and 5xx answer: a stable code and what to do about it.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public var code: ErrorCode
    public var message: String
    /// Further problems, e.g. every one of an invalid plugin config.
    public var details: [String]?

    public init(code: ErrorCode, message: String, details: [String]? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }
}

/// `PUT /v1/plugin-config` and `PUT /v1/scripts/...`: what was written.
public struct WriteResult: Codable, Sendable, Equatable {
    public var path: String
    public var sha256: String
    /// False when the file already had exactly this content (a retried push).
    public var changed: Bool

    public init(path: String, sha256: String, changed: Bool) {
        self.path = path
        self.sha256 = sha256
        self.changed = changed
    }
}

/// `PUT /v1/bundle`: the plugin config and the scripts it names, in one request. Every file is
/// checked (the scripts against this config) before any is written; the scripts are written
/// first, so the new config never names a script that is not there yet.
public struct BundleUpload: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        /// The file's bytes, base64.
        public var content: String
        /// The bytes' SHA-256, lowercase hex: damage on the way is refused, not written.
        public var sha256: String
        /// The detached signature line, as the `X-Quiesce-Signature` header carries it.
        public var signature: String?

        public init(bytes: [UInt8], sha256: String, signature: String?) {
            content = Data(bytes).base64EncodedString()
            self.sha256 = sha256
            self.signature = signature
        }
    }

    public var pluginConfig: File
    public var preScript: File?
    public var postScript: File?

    public init(pluginConfig: File, preScript: File?, postScript: File?) {
        self.pluginConfig = pluginConfig
        self.preScript = preScript
        self.postScript = postScript
    }

    /// The keys `StrictRequestBody` allows, at the top and in each file.
    public static let keys: Set<String> = ["pluginConfig", "preScript", "postScript"]
    public static let nestedKeys = Dictionary(
        uniqueKeysWithValues: keys.map { ($0, ["content", "sha256", "signature"] as Set<String>) })
}

/// `PUT /v1/bundle`: what was written, in the order it was.
public struct BundleWritten: Codable, Sendable, Equatable {
    public struct File: Codable, Sendable, Equatable {
        public var role: FileCheck.Role
        public var result: WriteResult

        public init(role: FileCheck.Role, result: WriteResult) {
            self.role = role
            self.result = result
        }
    }

    public var files: [File]

    public init(files: [File]) { self.files = files }
}

/// The agent's version, reported on the API and by `--version`.
public enum QuiesceVersion {
    public static let current = "0.1.0"
}

extension ErrorCode {
    public static let unauthorized = ErrorCode(rawValue: "Unauthorized")
    public static let notFound = ErrorCode(rawValue: "NotFound")
    public static let methodNotAllowed = ErrorCode(rawValue: "MethodNotAllowed")
    public static let bodyTooLarge = ErrorCode(rawValue: "BodyTooLarge")
    public static let badRequest = ErrorCode(rawValue: "BadRequest")
    public static let hashMismatch = ErrorCode(rawValue: "HashMismatch")
    public static let outsideScriptRoot = ErrorCode(rawValue: "OutsideScriptRoot")
    /// The script root, or a directory above it, can be written by someone other than its owner.
    public static let insecureScriptRoot = ErrorCode(rawValue: "InsecureScriptRoot")
    public static let frozen = ErrorCode(rawValue: "Frozen")
    /// The agent's snapshot provider keeps no snapshots on the VM to list or prune.
    public static let noManagedSnapshots = ErrorCode(rawValue: "NoManagedSnapshots")
    public static let busy = ErrorCode(rawValue: "Busy")
    public static let writeFailed = ErrorCode(rawValue: "WriteFailed")
    /// The agent failed in a way it has no code for: a bug, reported with its description.
    public static let internalError = ErrorCode(rawValue: "InternalError")
    /// The agent is stopping: it finishes what runs and takes nothing new.
    public static let shuttingDown = ErrorCode(rawValue: "ShuttingDown")
    /// The agent just started and is finishing the sessions it left open: retry in a moment.
    public static let recovering = ErrorCode(rawValue: "Recovering")
}
