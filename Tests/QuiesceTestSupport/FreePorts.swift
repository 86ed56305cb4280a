import Foundation

/// Ports on 127.0.0.1 for agents that tests start as separate processes.
public enum FreePorts {
    /// `count` consecutive ports that nothing listens on, chosen at random in a range away from
    /// the kernel's ephemeral ports, so tests running side by side do not pick the same ones.
    public static func range(count: Int) throws -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000..<(32_000 - count))
            if (base..<base + count).allSatisfy(isFree) { return base }
        }
        throw POSIXError(.EADDRINUSE)
    }

    /// One free port.
    public static func one() throws -> Int { try range(count: 1) }

    private static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
