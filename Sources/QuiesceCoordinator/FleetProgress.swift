import Synchronization

/// Counts VMs done in a fleet-wide command and tells an observer (a progress bar) as it goes.
public final class FleetProgress: Sendable {
    public let total: Int
    private let done = Atomic<Int>(0)
    private let observer: @Sendable (_ done: Int, _ total: Int) -> Void

    public init(total: Int, observer: @escaping @Sendable (_ done: Int, _ total: Int) -> Void) {
        self.total = total
        self.observer = observer
    }

    public func advance(by count: Int = 1) {
        guard count > 0 else { return }
        let now = done.add(count, ordering: .relaxed).newValue
        observer(now, total)
    }
}
