import Foundation
import Synchronization

/// What a test must undo, registered as it goes and run, newest first, off Swift's cooperative
/// pool once the test's body is done, whether it threw or not. A cleanup that stops a server or
/// unmounts a disk blocks for seconds; in a `defer` it would hold one of the pool's few threads
/// and stall every other test's timers meanwhile.
///
///     try await withCleanups { cleanups in
///         let database = try await RecipeDatabase.start()
///         cleanups.add { database.remove() }
///         ...
///     }
public final class Cleanups: Sendable {
    private let pending = Mutex<[@Sendable () -> Void]>([])

    public func add(_ cleanup: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(cleanup) }
    }

    fileprivate func runAll() {
        for cleanup in pending.withLock({ $0.reversed() }) { cleanup() }
    }
}

public func withCleanups<R: Sendable>(_ body: (Cleanups) async throws -> R) async throws -> R {
    let cleanups = Cleanups()
    let result: Result<R, any Error>
    do {
        result = .success(try await body(cleanups))
    } catch {
        result = .failure(error)
    }
    _ = try? await onBlockingThread { cleanups.runAll() }
    return try result.get()
}
