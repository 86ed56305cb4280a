import Synchronization

/// What the guard's freezing thread has done so far, shared with its main loop under a lock.
///
/// The lock is what makes a late FIFREEZE safe: the thread records a freeze only while the guard
/// has not stopped, and thaws it itself if it has, so no freeze can slip past the thaw.
final class FreezeProgress: Sendable {
    struct State: Sendable {
        /// Indexes of frozen mounts, in freeze order.
        var frozen: [Int] = []
        /// The mount whose FIFREEZE failed, and its errno.
        var failure: (index: Int, errno: Int32)?
        /// The mount whose FIFREEZE is running right now.
        var inFlight: Int?
        /// Set by the main loop when it thaws; the thread freezes nothing after it.
        var stopped = false
        /// When the first FIFREEZE was issued, after the flush (milliseconds since the epoch).
        var freezingSince: Double?
        /// How long the flush before the freeze took, and the mounts it could not flush.
        var flushMs: Double?
        var flushFailures: [GuardEvent.CallFailure] = []
        /// Grace periods were expedited for the freeze.
        var expedited = false
        /// The thread is done.
        var finished = false
    }

    let state = Mutex(State())
}
