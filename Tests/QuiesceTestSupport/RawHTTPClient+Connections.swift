import Foundation
import Synchronization

extension RawHTTPClient {
    /// A connection held open by the test, to see what the server does with it.
    public final class HeldConnection: Sendable {
        fileprivate let socket: Socket
        private let closed = Mutex(false)

        fileprivate init(socket: Socket) { self.socket = socket }

        /// Whether the server has closed the connection, without waiting for it.
        public var closedByServer: Bool {
            guard !closed.withLock({ $0 }) else { return false }
            var byte: UInt8 = 0
            let count = recv(socket.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
            return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        }

        /// Sends `bytes` one at a time, `interval` apart; returns how many went out before the
        /// server closed the connection, or nil when all did and it is still open.
        public func trickle(_ bytes: [UInt8], every interval: Duration) async throws -> Int? {
            for (index, byte) in bytes.enumerated() {
                if closedByServer { return index }
                try socket.write([byte])
                try await Task.sleep(for: interval)
            }
            return closedByServer ? bytes.count : nil
        }

        /// Waits up to `seconds` for the server to close the connection; true when it did.
        public func waitForClose(within seconds: Double) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if closedByServer { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return closedByServer
        }

        /// Closes it once; later calls do nothing (a descriptor closed twice may by then belong
        /// to another test's connection).
        public func close() {
            guard
                !closed.withLock({
                    let was = $0
                    $0 = true
                    return was
                })
            else { return }
            socket.close()
        }
    }

    /// Connects and sends nothing.
    public func hold() throws -> HeldConnection {
        HeldConnection(socket: try Socket(port: port))
    }
}
