import Foundation

/// A deliberately plain HTTP/1.1 client over a TCP socket to 127.0.0.1, so tests control every
/// byte: missing headers, wrong tokens, oversized or chunked bodies, `Expect: 100-continue`.
public struct RawHTTPClient: Sendable {
    public let port: Int

    public init(port: Int) { self.port = port }

    public struct Response: Sendable {
        public var status: Int
        /// Header names lowercased.
        public var headers: [String: String]
        public var body: [UInt8]
        /// Interim (1xx) statuses received before the final one.
        public var interim: [Int]

        public var text: String { String(decoding: body, as: UTF8.self) }

        public func json() throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
        }
    }

    /// Sends one request with `Connection: close` and reads the whole answer.
    public func send(
        _ method: String, _ path: String, token: String? = nil, headers: [String: String] = [:], body: [UInt8] = []
    ) async throws -> Response {
        try await onBlockingThread { try sendBlocking(method, path, token: token, headers: headers, body: body) }
    }

    /// The same, on the calling thread: for a test that must act the moment an answer comes,
    /// whatever Swift's cooperative pool is busy with.
    public func sendBlocking(
        _ method: String, _ path: String, token: String? = nil, headers: [String: String] = [:], body: [UInt8] = []
    ) throws -> Response {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Connection: close"]
        if let token { lines.append("Authorization: Bearer \(token)") }
        if headers["Transfer-Encoding"] == nil { lines.append("Content-Length: \(body.count)") }
        lines += headers.map { "\($0.key): \($0.value)" }
        let head = Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
        let expectContinue = headers["Expect"] == "100-continue"
        let socket = try Socket(port: port)
        defer { socket.close() }
        try socket.write(head)
        var received: [UInt8] = []
        if expectContinue {
            // Wait for the interim answer before sending the body, as curl does.
            while Self.headerEnd(in: received) == nil {
                let chunk = try socket.read()
                if chunk.isEmpty { break }
                received += chunk
            }
        }
        try socket.write(body)
        while true {
            let chunk = try socket.read()
            if chunk.isEmpty { break }
            received += chunk
        }
        return try Self.parse(received)
    }

    static func headerEnd(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first { bytes[$0..<$0 + 4].elementsEqual([13, 10, 13, 10]) }
    }

    static func parse(_ bytes: [UInt8]) throws -> Response {
        var rest = bytes[...]
        var interim: [Int] = []
        while true {
            guard let end = headerEnd(in: Array(rest)) else { throw CocoaError(.propertyListReadCorrupt) }
            let head = String(decoding: rest.prefix(end), as: UTF8.self).components(separatedBy: "\r\n")
            rest = rest.dropFirst(end + 4)
            let status = Int(head[0].split(separator: " ")[1]) ?? 0
            if (100..<200).contains(status) {
                interim.append(status)
                continue
            }
            var headers: [String: String] = [:]
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            return Response(status: status, headers: headers, body: Array(rest), interim: interim)
        }
    }
}

/// Runs blocking work on a thread of its own. Not on Dispatch's global queues: on Linux Swift's
/// cooperative pool runs on them, and blocking them starves every task (new threads are added
/// only about once a second).
public func onBlockingThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// A blocking TCP connection to 127.0.0.1.
struct Socket {
    let fd: Int32

    init(port: Int) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno)!) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code)!)
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            // A server that already answered (413) may close before the whole body is sent.
            if written <= 0 { return }
            offset += written
        }
    }

    func read() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = Glibc.recv(fd, &buffer, buffer.count, 0)
        if count < 0 {
            if errno == ECONNRESET { return [] }
            throw POSIXError(POSIXErrorCode(rawValue: errno)!)
        }
        return Array(buffer[..<count])
    }

    func close() { Glibc.close(fd) }
}
