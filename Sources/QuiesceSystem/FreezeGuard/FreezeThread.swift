import Glibc
import Synchronization
import SystemPackage

/// The guard's freezing thread: `syncfs` on every mount first (so FIFREEZE has little left to
/// flush while writers wait), then FIFREEZE on each mount in order, recording each result under
/// the progress lock and waking the main loop after each.
enum FreezeThread {
    static func start(
        fds: [CInt], mounts: [String], options: FreezeGuard.Options, progress: FreezeProgress, wake: CInt
    ) -> pthread_t {
        // Signals go to the main loop, never to this thread.
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return Thread.start {
            prepare(fds: fds, mounts: mounts, options: options, progress: progress)
            if let instant = options.freezeAt { waitUntil(instant, progress: progress) }
            let restore = options.gracePeriods?.expedite()
            progress.state.withLock { state in
                // On already (another freeze on this machine turned it on) counts as expedited too.
                state.expedited = restore != nil || options.gracePeriods?.isOn == true
                state.freezingSince = FreezeGuard.now()
            }
            freezeAll(fds: fds, progress: progress, wake: wake)
            // Only taking the freeze waits for grace periods; holding and thawing it do not.
            restore?()
            progress.state.withLock { $0.finished = true }
            Pipe.notify(wake)
        }
    }

    /// The flush before the freeze; a mount that cannot be flushed is noted and frozen anyway.
    private static func prepare(fds: [CInt], mounts: [String], options: FreezeGuard.Options, progress: FreezeProgress) {
        guard options.flush else { return }
        let start = FreezeGuard.now()
        var failures: [GuardEvent.CallFailure] = []
        for (fd, mount) in zip(fds, mounts) {
            if progress.state.withLock({ $0.stopped }) { return }
            do {
                try FileSystemFlush.flush(descriptor: fd, mount: mount)
            } catch {
                failures.append(.init(call: "syncfs", mount: mount, errno: error.errno.rawValue))
            }
        }
        let took = FreezeGuard.now() - start
        progress.state.withLock { state in
            state.flushMs = took
            state.flushFailures = failures
        }
    }

    /// Sleeps until `instant` (microseconds since the epoch): in slices while it is far, so a stop
    /// meanwhile is seen, then one absolute sleep on CLOCK_REALTIME for the last milliseconds.
    private static func waitUntil(_ instant: Int64, progress: FreezeProgress) {
        while true {
            if progress.state.withLock({ $0.stopped }) { return }
            let left = instant - WallClock.nowMicroseconds()
            if left <= 0 { return }
            if left <= 3000 { break }
            usleep(useconds_t(min(left - 2000, 20_000)))
        }
        WallClock.sleep(untilMicroseconds: instant)
    }

    private static func freezeAll(fds: [CInt], progress: FreezeProgress, wake: CInt) {
        for (index, fd) in fds.enumerated() {
            let go = progress.state.withLock { state in
                if state.stopped { return false }
                state.inFlight = index
                return true
            }
            guard go else { break }
            var result: Int32
            repeat {
                result = Glibc.ioctl(fd, FreezeGuard.fifreeze, 0) == 0 ? 0 : Glibc.errno
            } while result == EINTR
            let goOn = progress.state.withLock { state in
                state.inFlight = nil
                if result != 0 {
                    state.failure = (index, result)
                    return false
                }
                if state.stopped {
                    // The main loop already thawed and reported: this late freeze is undone here.
                    _ = FreezeGuard.thaw(fd)
                    return false
                }
                state.frozen.append(index)
                return true
            }
            Pipe.notify(wake)
            guard goOn else { break }
        }
    }
}

/// A plain pthread running a closure; Foundation's `Thread` is not in FoundationEssentials.
enum Thread {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    static func start(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(
            &thread, nil,
            { raw in
                Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, context)
        precondition(created == 0, "pthread_create failed: \(created)")
        return thread
    }
}
