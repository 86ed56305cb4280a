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

/// One start of an agent: to its first answer, idle, under load, after the load.
struct FootprintSample {
    var firstAnswer: Double
    var idle: (total: Int, anonymous: Int, file: Int)
    var loaded: Int
    var health: Double?
    var compliance: Double?
}

/// `agent-footprint [runs] [AGENT...]`: each agent binary (by default the one beside this
/// benchmark) started `runs` times, the binaries taking turns so that the machine's noise falls on
/// all alike, with its file read first so that it is in the page cache, as on a VM that runs it.
func agentFootprint(runs: Int, agents given: [String]) {
    let agents = given.isEmpty ? [agentExecutable()] : given
    for agent in agents where !FileManager.default.isExecutableFile(atPath: agent) {
        fail("\(agent) is not executable")
    }
    var samples = [[FootprintSample]](repeating: [], count: agents.count)
    for _ in 0..<runs {
        for (index, agent) in agents.enumerated() { samples[index].append(footprintSample(of: agent)) }
    }
    let qemu = qemuGuestAgentIdle()
    print("agent-footprint: quiesce-agent serve, medians of \(runs) starts each")
    for (agent, runs) in zip(agents, samples) {
        func kibibytes(_ value: (FootprintSample) -> Int) -> Int { Int(median(runs.map { Double(value($0)) })) }
        func rate(_ value: (FootprintSample) -> Double?) -> String {
            let rates = runs.compactMap(value)
            return rates.isEmpty
                ? "wrk not installed (apt-get install wrk)" : String(format: "%.0f requests/s", median(rates))
        }
        let size = ((try? FileManager.default.attributesOfItem(atPath: agent))?[.size] as? Int) ?? 0
        let idle = kibibytes(\.idle.total)
        print("\(agent)")
        print("  binary                 \(size.formatted()) bytes")
        print("  first health answer    \(String(format: "%.1f ms", median(runs.map(\.firstAnswer)))) after start")
        print(
            "  idle RSS               \(mebibytes(idle)) (anonymous \(mebibytes(kibibytes(\.idle.anonymous))), file "
                + "\(mebibytes(kibibytes(\.idle.file))))")
        let loaded = kibibytes(\.loaded)
        print("  RSS after the load     \(mebibytes(loaded)) (growth \(mebibytes(loaded - idle)))")
        print("  health                 \(rate(\.health))")
        print("  compliance             \(rate(\.compliance))")
        if let qemu {
            print(
                "  baseline qemu-ga idle  \(mebibytes(qemu.total)) (anonymous \(mebibytes(qemu.anonymous)))  "
                    + String(format: "ratio %.1fx RSS", Double(idle) / Double(max(qemu.total, 1))))
        }
    }
    if qemu == nil { print("baseline qemu-ga: not installed (apt-get install qemu-guest-agent)") }
}

/// Starts `serve` once on loopback with a temp token and settings and measures it.
private func footprintSample(of agent: String) -> FootprintSample {
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
    _ = FileManager.default.contents(atPath: agent)
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
    let health = requestsPerSecond(port: port, path: "/v1/health", token: token, seconds: 3)
    let compliance = requestsPerSecond(port: port, path: "/v1/compliance", token: token, seconds: 3)
    for _ in 0..<2000 { _ = answers(port: port, path: "/v1/health") }
    return FootprintSample(
        firstAnswer: firstAnswer, idle: idle, loaded: residentMemory(server.processIdentifier).total, health: health,
        compliance: compliance)
}

/// qemu-guest-agent, the usual in-guest agent, idle; nil when it is not installed.
private func qemuGuestAgentIdle() -> (total: Int, anonymous: Int, file: Int)? {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/qemu-ga") else { return nil }
    let work = shell(["mktemp", "-d", "/tmp/quiesce-footprint.XXXXXX"]).trimmingCharacters(in: .whitespacesAndNewlines)
    defer { try? FileManager.default.removeItem(atPath: work) }
    let guestAgent = Process()
    guestAgent.executableURL = URL(fileURLWithPath: "/usr/sbin/qemu-ga")
    guestAgent.arguments = ["-m", "unix-listen", "-p", "\(work)/qga.sock", "-t", work]
    guestAgent.standardError = FileHandle.nullDevice
    guard (try? guestAgent.run()) != nil else { return nil }
    defer {
        guestAgent.terminate()
        guestAgent.waitUntilExit()
    }
    sleep(1)
    return residentMemory(guestAgent.processIdentifier)
}
