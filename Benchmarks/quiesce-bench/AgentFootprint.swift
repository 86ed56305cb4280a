import Foundation

// agent-footprint: what `quiesce-agent serve` costs on a VM, beside qemu-guest-agent measured
// the same way in the same run: binary size, resident memory idle and after load (anonymous and
// file-backed), time from start to the first answered health request, requests per second.

/// `VmRSS`, `RssAnon` and `RssFile` of a process, in KiB.
func residentMemory(_ pid: Int32) -> (total: Int, anonymous: Int, file: Int) {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Int {
        status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            .flatMap {
                Int(
                    $0.split(separator: " ").dropFirst().first { !$0.isEmpty }?.trimmingCharacters(in: .whitespaces)
                        ?? "")
            } ?? 0
    }
    return (field("VmRSS"), field("RssAnon"), field("RssFile"))
}

func mebibytes(_ kibibytes: Int) -> String { String(format: "%.1f MiB", Double(kibibytes) / 1024) }

/// Whether a plain GET of `path` on 127.0.0.1:`port` answers 200.
func answers(port: Int, path: String) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return false }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
    _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var buffer = [UInt8](repeating: 0, count: 64)
    let count = recv(fd, &buffer, buffer.count, 0)
    return count > 12 && String(decoding: buffer[9..<12], as: UTF8.self) == "200"
}

/// Runs wrk for `seconds` and returns its requests per second.
func requestsPerSecond(port: Int, path: String, token: String, seconds: Int) -> Double? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else { return nil }
    let output = shell([
        "wrk", "-t1", "-c8", "-d\(seconds)s", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(port)\(path)",
    ])
    return output.split(separator: "\n").first { $0.hasPrefix("Requests/sec:") }
        .flatMap { Double($0.split(separator: " ").last.map(String.init) ?? "") }
}

func agentFootprint() {
    let agent = agentExecutable()
    let work = shell(["mktemp", "-d", "/tmp/quiesce-footprint.XXXXXX"]).trimmingCharacters(in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let token = "footprint-token-0123456789abcdef"
    _ = FileManager.default.createFile(
        atPath: "\(work)/token", contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
    let port = 17_000 + Int(getpid() % 1000)
    let settings = """
        {"listen": "127.0.0.1:\(port)", "auth": {"tokenFile": "\(work)/token"}, "requiredOwnerUid": \(geteuid()),
         "pluginConfigPath": "\(work)/config.json", "pluginHostPath": "\(work)/host.conf", "stateDirectory":
         "\(work)/state",
         "scriptRoot": "\(work)/scripts", "auditLogPath": "\(work)/audit.log", "freeze": {"mounts": []}}
        """
    _ = FileManager.default.createFile(
        atPath: "\(work)/agent.json", contents: Data(settings.utf8), attributes: [.posixPermissions: 0o600])

    let size = ((try? FileManager.default.attributesOfItem(atPath: agent))?[.size] as? Int) ?? 0
    let server = Process()
    server.executableURL = URL(fileURLWithPath: agent)
    server.arguments = ["serve", "--settings", "\(work)/agent.json"]
    server.standardError = FileHandle.nullDevice
    let started = Date()
    do { try server.run() } catch { fail("cannot start \(agent): \(error)") }
    defer {
        server.terminate()
        server.waitUntilExit()
    }
    while !answers(port: port, path: "/v1/health") {
        guard Date().timeIntervalSince(started) < 10 else { fail("serve did not answer within 10 s") }
        usleep(500)
    }
    let firstAnswer = Date().timeIntervalSince(started) * 1000
    sleep(1)
    let idle = residentMemory(server.processIdentifier)
    let health = requestsPerSecond(port: port, path: "/v1/health", token: token, seconds: 5)
    let compliance = requestsPerSecond(port: port, path: "/v1/compliance", token: token, seconds: 5)
    for _ in 0..<2000 { _ = answers(port: port, path: "/v1/health") }
    let loaded = residentMemory(server.processIdentifier)

    // qemu-guest-agent, the usual in-guest agent, measured the same way.
    var qemu: (total: Int, anonymous: Int, file: Int)?
    if FileManager.default.isExecutableFile(atPath: "/usr/sbin/qemu-ga") {
        let guestAgent = Process()
        guestAgent.executableURL = URL(fileURLWithPath: "/usr/sbin/qemu-ga")
        try? FileManager.default.createDirectory(atPath: "\(work)/qga", withIntermediateDirectories: true)
        guestAgent.arguments = ["-m", "unix-listen", "-p", "\(work)/qga.sock", "-t", "\(work)/qga"]
        guestAgent.standardError = FileHandle.nullDevice
        if (try? guestAgent.run()) != nil {
            sleep(1)
            qemu = residentMemory(guestAgent.processIdentifier)
            guestAgent.terminate()
            guestAgent.waitUntilExit()
        }
    }

    print("agent-footprint: quiesce-agent serve (\(agent))")
    print("  binary                 \(String(format: "%.1f MB", Double(size) / 1_000_000))")
    print("  first health answer    \(String(format: "%.1f ms", firstAnswer)) after start")
    print(
        "  idle RSS               \(mebibytes(idle.total)) (anonymous \(mebibytes(idle.anonymous)), file "
            + "\(mebibytes(idle.file)))"
    )
    print(
        "  RSS after the load     \(mebibytes(loaded.total)) (anonymous \(mebibytes(loaded.anonymous)); growth "
            + "\(mebibytes(loaded.total - idle.total)))"
    )
    print(
        "  health                 "
            + "\(health.map { String(format: "%.0f requests/s", $0) } ?? "wrk not installed (apt-get install wrk)")"
    )
    print("  compliance             \(compliance.map { String(format: "%.0f requests/s", $0) } ?? "wrk not installed")")
    if let qemu {
        print(
            "  baseline qemu-ga idle  \(mebibytes(qemu.total)) (anonymous \(mebibytes(qemu.anonymous)))  "
                + String(
                    format: "ratio %.1fx RSS, %.1fx anonymous", Double(idle.total) / Double(max(qemu.total, 1)),
                    Double(idle.anonymous) / Double(max(qemu.anonymous, 1))))
    } else {
        print("  baseline qemu-ga       not installed (apt-get install qemu-guest-agent)")
    }
}
