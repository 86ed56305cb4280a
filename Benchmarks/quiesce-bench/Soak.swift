import Foundation

// soak: one `quiesce-agent serve` under a long mixed load, to show it neither grows nor leaks:
// a million requests (health, version, compliance, metrics, missing and wrong tokens, unknown
// routes, malformed bodies) from four keep-alive clients, beside a thousand snapshot sessions
// with real pre- and post-scripts. Resident memory and open descriptors are taken after a
// warm-up (the baseline) and again after the load.

/// One keep-alive HTTP/1.1 connection to 127.0.0.1, reconnecting when the agent closes it.
final class SoakConnection {
    private let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends one request and reads its answer; returns the status, 0 when the connection failed.
    func send(_ method: String, _ path: String, token: String?, body: String = "") -> Int {
        if fd < 0 { connect() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.utf8.count)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        let request = Array((head + "\r\n" + body).utf8)
        let sent = request.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count, let (status, closing) = readResponse() else {
            reset()
            return 0
        }
        if closing { reset() }
        return status
    }

    private func connect() {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private func reset() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer = []
    }

    /// The status and whether the agent closes the connection after it.
    private func readResponse() -> (Int, Bool)? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.firstRange(of: separator)?.upperBound
            if headEnd == nil, !fill() { return nil }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self).lowercased()
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.count >= 12,
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { return nil }
        let length =
            lines.first { $0.hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        while buffer.count < headEnd! + length {
            if !fill() { return nil }
        }
        buffer.removeFirst(headEnd! + length)
        return (status, lines.contains { $0 == "connection: close" })
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = recv(fd, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffer += chunk[..<count]
        return true
    }
}

/// Open descriptors of a process.
func openDescriptors(_ pid: Int32) -> Int {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []).count
}

func soak(requests: Int, sessions: Int) {
    let agent = agentExecutable()
    let work = shell(["mktemp", "-d", "/tmp/quiesce-soak.XXXXXX"]).trimmingCharacters(in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let token = "soak-token-0123456789abcdef"
    let files: [(String, String, Int)] = [
        ("token", token + "\n", 0o600),
        ("scripts/pre.sh", "#!/bin/sh\necho quiesced\n", 0o700),
        ("scripts/post.sh", "#!/bin/sh\necho released \"$QUIESCE_PRE_RESULT\"\n", 0o700),
        (
            "config.json",
            #"{"preScriptLocation": "\#(work)/scripts/pre.sh", "postScriptLocation": "\#(work)/scripts/post.sh", "#
                + #""fsFreezeEnabled": false}"#, 0o600
        ),
    ]
    try? FileManager.default.createDirectory(
        atPath: "\(work)/scripts", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    for (name, contents, mode) in files {
        _ = FileManager.default.createFile(
            atPath: "\(work)/\(name)", contents: Data(contents.utf8), attributes: [.posixPermissions: mode])
    }
    let port = 18_000 + Int(getpid() % 1000)
    let settings = """
        {"listen": "127.0.0.1:\(port)", "auth": {"tokenFile": "\(work)/token"}, "requiredOwnerUid": \(geteuid()),
         "pluginConfigPath": "\(work)/config.json", "pluginHostPath": "\(work)/host.conf",
         "stateDirectory": "\(work)/state", "scriptRoot": "\(work)/scripts", "auditLogPath": "\(work)/audit.log",
         "limits": {"concurrentRequests": 64}}
        """
    _ = FileManager.default.createFile(
        atPath: "\(work)/agent.json", contents: Data(settings.utf8), attributes: [.posixPermissions: 0o600])
    let server = Process()
    server.executableURL = URL(fileURLWithPath: agent)
    server.arguments = ["serve", "--settings", "\(work)/agent.json"]
    server.standardError = FileHandle.nullDevice
    do { try server.run() } catch { fail("cannot start \(agent): \(error)") }
    defer {
        server.terminate()
        server.waitUntilExit()
    }
    let started = Date()
    while !answers(port: port, path: "/v1/health") {
        guard Date().timeIntervalSince(started) < 10 else { fail("serve did not answer within 10 s") }
        usleep(1000)
    }
    let pid = server.processIdentifier

    // The mix, cycled through by every client: what a coordinator, a monitor and the odd
    // stranger send.
    let mix: [(String, String, String?, String)] = [
        ("GET", "/v1/health", nil, ""),
        ("GET", "/v1/version", token, ""),
        ("GET", "/v1/health", nil, ""),
        ("GET", "/v1/compliance", token, ""),
        ("GET", "/v1/metrics", token, ""),
        ("GET", "/v1/version", nil, ""),
        ("GET", "/v1/version", "wrong-token-0123456789abcdef", ""),
        ("GET", "/v1/no-such-route", token, ""),
        ("POST", "/v1/sessions", token, #"{"id": "x", "leaseSeconds": "#),
        ("GET", "/v1/health", nil, ""),
    ]
    let clients = 4
    @Sendable func load(_ count: Int) -> (seconds: Double, failures: Int) {
        let failures = LockedCounter()
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            let connection = SoakConnection(port: port)
            for index in stride(from: client, to: count, by: clients) {
                let (method, path, token, body) = mix[index % mix.count]
                if connection.send(method, path, token: token, body: body) == 0 { failures.add() }
            }
        }
        return (Date().timeIntervalSince(start), failures.value)
    }
    @Sendable func runSessions(_ count: Int, prefix: String) -> Int {
        let connection = SoakConnection(port: port)
        var failed = 0
        for index in 0..<count {
            let id = "\(prefix)-\(index)"
            let statuses = [
                connection.send("POST", "/v1/sessions", token: token, body: #"{"id": "\#(id)", "leaseSeconds": 60}"#),
                connection.send("POST", "/v1/sessions/\(id)/prepare", token: token),
                connection.send("POST", "/v1/sessions/\(id)/snapshot", token: token),
                connection.send("POST", "/v1/sessions/\(id)/finish", token: token),
            ]
            if statuses.contains(where: { $0 != 200 }) { failed += 1 }
        }
        return failed
    }

    // Warm-up: every code path once, so that what is measured after is growth, not first use.
    _ = load(20_000)
    _ = runSessions(40, prefix: "warm")
    sleep(1)
    let before = (memory: residentMemory(pid), descriptors: openDescriptors(pid))

    let sessionsDone = LockedCounter()
    let sessionsThread = Thread {
        sessionsDone.add(runSessions(sessions, prefix: "soak"))
        sessionsDone.finish()
    }
    let sessionStart = Date()
    sessionsThread.start()
    let measured = load(requests)
    sessionsDone.waitUntilFinished()
    let sessionSeconds = Date().timeIntervalSince(sessionStart)
    sleep(2)
    let after = (memory: residentMemory(pid), descriptors: openDescriptors(pid))

    print("soak: quiesce-agent serve (\(agent)), \(clients) keep-alive clients and one session client")
    print(
        "  requests               \(requests) mixed in \(String(format: "%.1f s", measured.seconds)): "
            + String(format: "%.0f requests/s", Double(requests) / measured.seconds)
            + ", \(measured.failures) without an answer")
    print(
        "  sessions               \(sessions) with real scripts in \(String(format: "%.1f s", sessionSeconds)) "
            + "beside them, \(sessionsDone.value) failed")
    print(
        "  RSS                    \(mebibytes(before.memory.total)) after warm-up -> \(mebibytes(after.memory.total)) "
            + "(growth \(mebibytes(after.memory.total - before.memory.total)); anonymous "
            + "\(mebibytes(before.memory.anonymous)) -> \(mebibytes(after.memory.anonymous)))")
    print(
        "  open descriptors       \(before.descriptors) -> \(after.descriptors) "
            + "(growth \(after.descriptors - before.descriptors))")
}

/// A counter several threads add to, and one waits on.
final class LockedCounter: @unchecked Sendable {
    private let condition = NSCondition()
    private var count = 0
    private var finished = false

    func add(_ amount: Int = 1) {
        condition.lock()
        count += amount
        condition.unlock()
    }

    var value: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func waitUntilFinished() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
