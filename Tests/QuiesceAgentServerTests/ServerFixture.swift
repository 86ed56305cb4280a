import Foundation
import QuiesceAgent
import QuiesceAgentServer
import QuiesceHTTPServer
import QuiesceSystem
import QuiesceTestSupport

/// A real agent server on 127.0.0.1 port 0 in this process, with its own temp root: token file,
/// plugin config path and script root, owned by whoever runs the tests.
struct ServerFixture {
    let directory: TemporaryDirectory
    let token = "test-token-0123456789abcdef"
    let settings: AgentSettings
    let client: RawHTTPClient
    private let task: Task<Void, any Error>

    /// `extraRoutes` are served beside the agent's own.
    static func start(configure: (inout AgentSettings) -> Void = { _ in }, extraRoutes: [Route] = []) async throws
        -> ServerFixture
    {
        let directory = try TemporaryDirectory()
        var settings = AgentSettings()
        settings.requiredOwnerUid = geteuid()
        settings.pluginConfigPath = directory.url("azure/VMSnapshotScriptPluginConfig.json")
        settings.pluginHostPath = directory.url("azure/VMSnapshotPluginHost.conf")
        settings.stateDirectory = directory.url("state")
        settings.freeze.mounts = []
        settings.server.listen = "127.0.0.1:0"
        settings.server.tokenFile = try directory.write("agent.token", "test-token-0123456789abcdef\n", mode: 0o600)
        settings.server.scriptRoot = directory.url("scripts")
        settings.server.configBodyLimit = 4096
        settings.server.auditLogPath = directory.url("log/audit.log")
        configure(&settings)
        // Freezes go through the real guard of the built quiesce-agent.
        var agent = try buildAgent(
            settings: settings,
            freezeService: GuardFreezeService(
                executable: AgentBinary.path, records: GuardRecords(directory: settings.stateDirectory)))
        agent.server.router.routes += extraRoutes
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        agent.server.onListening = { port in
            continuation.yield(port)
            continuation.finish()
        }
        let running = agent
        let task = Task { try await running.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CocoaError(.fileNoSuchFile) }
        return ServerFixture(directory: directory, settings: settings, client: RawHTTPClient(port: port), task: task)
    }

    private init(
        directory: TemporaryDirectory, settings: AgentSettings, client: RawHTTPClient, task: Task<Void, any Error>
    ) {
        self.directory = directory
        self.settings = settings
        self.client = client
        self.task = task
    }

    func send(
        _ method: String, _ path: String, authorized: Bool = true, headers: [String: String] = [:], body: [UInt8] = []
    ) async throws -> RawHTTPClient.Response {
        try await client.send(method, path, token: authorized ? token : nil, headers: headers, body: body)
    }

    /// Installs a config and scripts that log to the temp dir: `pre.sh` and `post.sh` under the
    /// script root, with `fsFreezeEnabled` as given.
    func installFramework(freeze: Bool, pre: String = "exit 0", post: String = "exit 0") throws {
        let scripts = settings.server.scriptRoot
        try FileManager.default.createDirectory(
            atPath: scripts, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (name, body) in [("pre.sh", pre), ("post.sh", post)] {
            let script =
                "#!/bin/sh\necho \"$QUIESCE_PHASE $QUIESCE_SESSION_ID ${QUIESCE_PRE_RESULT:-} "
                + "${QUIESCE_SNAPSHOT_RESULT:-}\" >> \(directory.url("ran.log"))\n\(body)\n"
            // Close-on-exec: see TemporaryDirectory.write.
            try AtomicFile.write(Array(script.utf8), to: "\(scripts)/\(name)", mode: 0o700)
        }
        let config =
            "{\"preScriptLocation\": \"\(scripts)/pre.sh\", \"postScriptLocation\": \"\(scripts)/post.sh\", "
            + "\"fsFreezeEnabled\": \(freeze)}"
        try FileManager.default.createDirectory(atPath: directory.url("azure"), withIntermediateDirectories: true)
        try config.write(toFile: settings.pluginConfigPath, atomically: false, encoding: .utf8)
        chmod(settings.pluginConfigPath, 0o600)
    }

    /// The scripts' log: one line per run, `phase session preResult snapshotResult`.
    var ranLog: [String] {
        ((try? directory.read("ran.log")) ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// A valid plugin config naming scripts under the script root.
    func config(pre: String = "pre.sh", post: String = "post.sh") -> [UInt8] {
        Array(
            """
            {"preScriptLocation": "\(settings.server.scriptRoot)/\(pre)", "postScriptLocation":
            "\(settings.server.scriptRoot)/\(post)",
             "preScriptParams": ["", ""], "timeoutInSeconds": 30}
            """.utf8)
    }

    func stop() {
        task.cancel()
        directory.remove()
        // The server may still write its state while it winds down: remove it again after it has.
        let (task, directory) = (self.task, self.directory)
        Task {
            _ = await task.result
            directory.remove()
        }
    }
}
