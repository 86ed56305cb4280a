import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport
import Synchronization
import SystemPackage

/// A freezer that records what it is asked and fails where told to.
final class RecordingFreezer: FileSystemFreezer {
    private let calls = Mutex<[String]>([])
    private let failures: [String: Errno]
    private let flushFailures: [String: Errno]
    /// Mounts that report "not frozen" at thaw, as if somebody else had thawed them.
    private let thawedBehindOurBack: Set<String>

    init(
        failing failures: [String: Errno] = [:], failingFlush flushFailures: [String: Errno] = [:],
        thawedBehindOurBack: Set<String> = []
    ) {
        self.failures = failures
        self.flushFailures = flushFailures
        self.thawedBehindOurBack = thawedBehindOurBack
    }

    /// Every call so far, like `"freeze /a"` or `"thaw /a"`.
    var log: [String] { calls.withLock { $0 } }

    func freeze(mount: String) throws(SystemError) {
        calls.withLock { $0.append("freeze \(mount)") }
        if let errno = failures[mount] { throw SystemError(call: "ioctl(FIFREEZE)", subject: mount, errno: errno) }
    }

    func flush(mount: String) throws(SystemError) {
        calls.withLock { $0.append("flush \(mount)") }
        if let errno = flushFailures[mount] { throw SystemError(call: "syncfs", subject: mount, errno: errno) }
    }

    func thaw(mount: String) throws(SystemError) {
        calls.withLock { $0.append("thaw \(mount)") }
        if thawedBehindOurBack.contains(mount) {
            throw SystemError(call: "ioctl(FITHAW)", subject: mount, errno: .invalidArgument)
        }
    }
}

/// A snapshot provider that records the requests it gets.
final class RecordingProvider: SnapshotProvider {
    let name = "recording"
    private let requests = Mutex<[SnapshotRequest]>([])
    private let outcome: SnapshotOutcome

    init(outcome: SnapshotOutcome = .taken(id: "snap-1")) { self.outcome = outcome }

    var received: [SnapshotRequest] { requests.withLock { $0 } }

    func takeSnapshot(_ request: SnapshotRequest) async -> SnapshotOutcome {
        requests.withLock { $0.append(request) }
        return outcome
    }
}

extension FrameworkFixture {
    func run(freezer: any FileSystemFreezer = RecordingFreezer(), provider: (any SnapshotProvider)? = nil) async
        -> CycleReport
    {
        await run(freezer: freezer, provider: provider ?? RecordingProvider())
    }
}
