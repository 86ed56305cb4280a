import Foundation
import Synchronization

/// Ports on 127.0.0.1 for agents that tests start as separate processes.
public enum FreePorts {
    /// Every port handed out in this test process: a range is free only until its agents bind
    /// it, so tests running side by side must never be given overlapping ones.
    private static let handedOut = Mutex<Set<Int>>([])

    /// `count` consecutive ports that nothing listens on and no other test in this process was
    /// given, chosen at random in a range away from the kernel's ephemeral ports.
    public static func range(count: Int) throws -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000..<(32_000 - count))
            let ports = base..<base + count
            let claimed = handedOut.withLock { handedOut in
                guard handedOut.isDisjoint(with: ports), ports.allSatisfy(isFree) else { return false }
                handedOut.formUnion(ports)
                return true
            }
            if claimed { return base }
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
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
