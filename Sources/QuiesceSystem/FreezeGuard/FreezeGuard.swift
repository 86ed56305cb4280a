import FoundationEssentials
import Glibc
import Synchronization
import SystemPackage

/// The process that holds a freeze, so that nothing the agent does, or fails to do, can leave a
/// file system frozen.
///
/// It opens every mount before freezing any, flushes them (`syncfs`, so that FIFREEZE has little
/// left to write while writers wait), freezes them in order on a thread of their own, reports
/// `frozen`, and thaws them all in reverse order at the first of: the agent asks
/// (`thaw` on standard input), the deadline passes, standard input closes (the agent is gone,
/// even by SIGKILL), or a catchable signal arrives. It writes nothing to disk (the one write is
/// to `/sys/kernel/rcu_expedited`, see `KernelGracePeriods`).
///
/// A FIFREEZE can block in the kernel (a device that stops answering while dirty data is
/// flushed). Freezing on its own thread keeps the main loop free: at the deadline it thaws every
/// mount frozen so far and reports the blocked one as `pendingFreeze`. The guard then stays alive
/// until that call returns, and the freezing thread thaws the mount at once, under the same lock
/// the main loop used to stop, so the freeze cannot outlive the guard's decision to thaw.
public enum FreezeGuard {
    static let fifreeze: UInt = 0xC004_5877
    static let fithaw: UInt = 0xC004_5878

    /// What the guard does before its first FIFREEZE.
    public struct Options: Sendable {
        /// `syncfs` every mount first.
        public var flush: Bool
        /// Expedite RCU grace periods while the freeze is taken; nil leaves the kernel as it is.
        public var gracePeriods: KernelGracePeriods?
        /// Issue the first FIFREEZE at this instant (microseconds since the epoch, CLOCK_REALTIME)
        /// rather than when ready; the deadline counts from it.
        public var freezeAt: Int64?

        public init(flush: Bool, gracePeriods: KernelGracePeriods?, freezeAt: Int64? = nil) {
            self.flush = flush
            self.gracePeriods = gracePeriods
            self.freezeAt = freezeAt
        }
    }

    /// Runs the guard in this process, reporting on fd 1 and reading commands on fd 0. Returns
    /// the exit status: 0 after a thaw, 1 when the freeze could not be taken.
    public static func run(mounts: [String], timeout: Duration, options: Options) -> Int32 {
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        let signals: SignalPipe
        let wake: Pipe
        do {
            signals = try SignalPipe.install()
            wake = try Pipe()
        } catch {
            var event = GuardEvent(event: .freezeFailed, at: now(), mounts: [])
            event.failure = .init(call: "pipe2", mount: mounts.first ?? "", errno: error.rawValue)
            send(event)
            return 1
        }
        var fds: [CInt] = []
        defer { fds.forEach { Glibc.close($0) } }
        for mount in mounts {
            do {
                fds.append(try Syscalls.openDirectory(mount))
            } catch {
                var event = GuardEvent(event: .freezeFailed, at: now(), mounts: [])
                event.failure = .init(call: "open", mount: mount, errno: error.errno.rawValue)
                send(event)
                return 1
            }
        }
        let wait = options.freezeAt.map { Duration.microseconds(max(0, $0 - WallClock.nowMicroseconds())) } ?? .zero
        let deadline = ContinuousClock.now.advanced(by: wait + timeout)
        let progress = FreezeProgress()
        let worker = FreezeThread.start(
            fds: fds, mounts: mounts, options: options, progress: progress, wake: wake.writeEnd)
        var frozenReported = false
        var polled = [
            pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
            pollfd(fd: signals.readEnd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return stop(.deadline, mounts, fds, progress, worker) }
            let milliseconds = Int32(clamping: Int((left / .milliseconds(1)).rounded(.up)))
            let ready = poll(&polled, nfds_t(polled.count), milliseconds)
            if ready < 0 && Glibc.errno == EINTR { continue }
            if ready <= 0 { continue }
            if polled[2].revents != 0 {
                wake.drain()
                let state = progress.state.withLock { $0 }
                if let failure = state.failure {
                    return rollBack(failure, mounts, fds, progress, worker)
                }
                if state.frozen.count == mounts.count && !frozenReported {
                    frozenReported = true
                    var event = GuardEvent(event: .frozen, at: now(), mounts: mounts)
                    event.since = state.freezingSince
                    event.flushMs = state.flushMs
                    event.flushFailures = state.flushFailures.isEmpty ? nil : state.flushFailures
                    event.expedited = state.expedited
                    send(event)
                }
            }
            if polled[1].revents != 0 {
                var event = GuardEvent(event: .thawed, at: 0, mounts: [])
                event.signal = signals.take()
                return stop(.signal, mounts, fds, progress, worker, signal: event.signal)
            }
            if polled[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 256)
                let count = Glibc.read(0, &buffer, buffer.count)
                if count <= 0 { return stop(.parentGone, mounts, fds, progress, worker) }
                if String(decoding: buffer[..<count], as: UTF8.self).contains("thaw") {
                    return stop(.requested, mounts, fds, progress, worker)
                }
            }
        }
    }

    /// Thaws everything frozen so far, reports why, and waits for the freezing thread.
    private static func stop(
        _ reason: GuardEvent.ThawReason, _ mounts: [String], _ fds: [CInt], _ progress: FreezeProgress,
        _ worker: pthread_t, signal: Int32? = nil
    ) -> Int32 {
        let state = progress.state.withLock { state in
            state.stopped = true
            return state
        }
        var event = GuardEvent(event: .thawed, at: 0, mounts: [])
        var alreadyThawed: [String] = []
        var failures: [GuardEvent.CallFailure] = []
        for index in state.frozen.reversed() {
            switch thaw(fds[index]) {
            case 0: event.mounts.append(mounts[index])
            case EINVAL: alreadyThawed.append(mounts[index])
            case let code: failures.append(.init(call: "ioctl(FITHAW)", mount: mounts[index], errno: code))
            }
        }
        event.at = now()
        event.reason = reason
        event.signal = signal
        event.held = reason == .requested && state.frozen.count == mounts.count && alreadyThawed.isEmpty
        event.alreadyThawed = alreadyThawed
        event.thawFailures = failures.isEmpty ? nil : failures
        event.pendingFreeze = state.inFlight.map { mounts[$0] }
        send(event)
        pthread_join(worker, nil)
        return 0
    }

    /// A FIFREEZE failed: thaw what was frozen before it, at once, and report.
    private static func rollBack(
        _ failure: (index: Int, errno: Int32), _ mounts: [String], _ fds: [CInt], _ progress: FreezeProgress,
        _ worker: pthread_t
    ) -> Int32 {
        let frozen = progress.state.withLock { state in
            state.stopped = true
            return state.frozen
        }
        var event = GuardEvent(event: .freezeFailed, at: now(), mounts: [])
        event.failure = .init(call: "ioctl(FIFREEZE)", mount: mounts[failure.index], errno: failure.errno)
        var failures: [GuardEvent.CallFailure] = []
        for index in frozen.reversed() {
            let code = thaw(fds[index])
            if code == 0 || code == EINVAL {
                event.mounts.append(mounts[index])
            } else {
                failures.append(.init(call: "ioctl(FITHAW)", mount: mounts[index], errno: code))
            }
        }
        event.thawFailures = failures.isEmpty ? nil : failures
        send(event)
        pthread_join(worker, nil)
        return 1
    }

    /// FITHAW, retried on EINTR; 0 or the errno.
    static func thaw(_ fd: CInt) -> Int32 {
        while true {
            if Glibc.ioctl(fd, fithaw, 0) == 0 { return 0 }
            if Glibc.errno != EINTR { return Glibc.errno }
        }
    }

    /// Milliseconds since the epoch, to the microsecond, as events carry them: the clock the
    /// agreed instant is on.
    static func now() -> Double { Double(WallClock.nowMicroseconds()) / 1000 }

    /// Writes one event as a JSON line to the agent; a vanished agent is ignored (EPIPE).
    static func send(_ event: GuardEvent) {
        guard var line = try? JSONEncoder().encode(event) else { return }
        line.append(UInt8(ascii: "\n"))
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(1, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && Glibc.errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
