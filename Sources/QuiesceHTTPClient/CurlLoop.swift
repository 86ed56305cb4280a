import CCurl
import Synchronization

/// The thread that owns the multi handle: it adds submitted transfers (at most
/// `maxConcurrentTransfers` at once), drives them with `curl_multi_perform`, sleeps in
/// `curl_multi_poll` and answers each transfer as it completes. Only this thread touches the
/// handles; other threads only queue transfers and wake it (`curl_multi_wakeup` is the one
/// multi call libcurl allows from any thread), hence `@unchecked`.
final class CurlLoop: @unchecked Sendable {
    private let multi: UnsafeMutableRawPointer
    private let maxConcurrentTransfers: Int
    private let tls: ClientTLS
    private let queue = Mutex<(waiting: [Transfer], stopping: Bool)>(([], false))

    init(maxConcurrentTransfers: Int, tls: ClientTLS) {
        multi = curl_multi_init()
        self.maxConcurrentTransfers = max(1, maxConcurrentTransfers)
        self.tls = tls
        // Room for a connection per transfer in flight and as many recently idle: a group's phases
        // reuse every member's connection (its client's concurrency is the group's size), and a
        // fleet command's finished VMs give theirs up. libcurl walks the whole cache each time a
        // transfer ends, so a cache of every agent made a 10,000-agent sweep quadratic.
        _ = quiesce_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 2 * self.maxConcurrentTransfers)
    }

    func submit(_ transfer: Transfer) {
        let (stopping, wasEmpty) = queue.withLock { queue in
            let wasEmpty = queue.waiting.isEmpty
            if !queue.stopping { queue.waiting.append(transfer) }
            return (queue.stopping, wasEmpty)
        }
        if stopping {
            transfer.finish(
                .failure(TransportError(kind: .other, address: transfer.address, message: "the client was shut down")))
            return
        }
        // The loop takes every waiting transfer it has room for at once: a queue that was not
        // empty has woken it already, or will be taken from as transfers complete. A sweep of
        // 10,000 VMs woke it about 150 times, not 10,000.
        if wasEmpty { curl_multi_wakeup(multi) }
    }

    func stop() {
        queue.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    /// The loop; returns after `stop()`, once every transfer has been answered.
    func run() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (incoming, stopping) = queue.withLock { queue in
                let room = max(0, maxConcurrentTransfers - active.count)
                // Usually there is room for all: the queue is handed over whole, not copied.
                guard room < queue.waiting.count else { return (queue.waiting.take(), queue.stopping) }
                let taken = Array(queue.waiting.prefix(room))
                queue.waiting.removeFirst(room)
                return (taken, queue.stopping)
            }
            for transfer in incoming {
                guard let handle = transfer.makeHandle(tls: tls) else { continue }
                curl_multi_add_handle(multi, handle)
                active[handle] = transfer
            }
            if stopping && active.isEmpty && queue.withLock({ $0.waiting.isEmpty }) { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var remaining: Int32 = 0
            var completed = false
            while let message = curl_multi_info_read(multi, &remaining) {
                guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                    let transfer = active.removeValue(forKey: handle)
                else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi, handle)
                transfer.complete(code: code)
                completed = true
            }
            // Completions made room: start the transfers waiting for it now, not after the poll.
            if completed && queue.withLock({ !$0.waiting.isEmpty }) { continue }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        curl_multi_cleanup(multi)
    }
}

extension Array {
    /// The elements, leaving the array empty.
    fileprivate mutating func take() -> [Element] {
        defer { self = [] }
        return self
    }
}
