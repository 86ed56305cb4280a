import NIOCore
import QuiesceAPI

/// `host:port` to listen on (`[::1]:7710` for IPv6).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why an address cannot be listened on, said for the person who wrote it.
    public struct Refused: Error, Sendable, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// `what` names the setting in the error: "`listen`", "--listen".
    public static func parse(_ text: String, what: String = "`listen`") throws(Refused) -> ListenAddress {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            port = text[close...].dropFirst().drop { $0 == ":" }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        } else {
            host = ""
            port = ""
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw Refused("\(what) must be \"host:port\", e.g. \"127.0.0.1:7710\", found \"\(text)\"")
        }
        return ListenAddress(host: String(host), port: number)
    }

    /// Loopback addresses only: 127.0.0.0/8, ::1 and localhost.
    public var isLoopback: Bool { Loopback.contains(host: host) }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension Loopback {
    /// True for a bound address in 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6.
    public static func contains(_ address: SocketAddress) -> Bool {
        guard let ip = address.ipAddress?.lowercased() else { return false }
        return contains(host: ip.hasPrefix("::ffff:") ? String(ip.dropFirst(7)) : ip)
    }
}
