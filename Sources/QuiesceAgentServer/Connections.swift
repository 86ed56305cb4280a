import NIOCore
import Synchronization

/// The agent's open connections: at most `maximum` at once (the excess is closed as it is
/// accepted, before a byte is read), and on shutdown each is told to close as soon as it is not
/// handling a request, so a lingering keep-alive client cannot keep a stopped agent alive.
final class Connections: Sendable {
    let maximum: Int
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes `channel` in, or says no when `maximum` are open already.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = open.withLock { open in
            guard open.count < maximum else { return false }
            open[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [weak self] _ in self?.open.withLock { _ = $0.removeValue(forKey: id) } }
        }
        return admitted
    }

    var count: Int { open.withLock { $0.count } }

    /// Every open connection closes once its current request, if any, is answered.
    func shutDown() {
        for channel in open.withLock({ Array($0.values) }) {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionShutdownEvent())
        }
    }
}
