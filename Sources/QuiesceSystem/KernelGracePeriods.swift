import Glibc

/// Expedited RCU grace periods for the few milliseconds of a freeze.
///
/// FIFREEZE takes the file system's three write-blocking locks (per-CPU semaphores), and each
/// waits for an RCU grace period before it holds: on an idle disk those waits, not the flush, are
/// most of FIFREEZE's time (about 25 ms of it on the 2-core development VM; 1 ms expedited;
/// docs/benchmarks.md). `/sys/kernel/rcu_expedited` makes the kernel expedite them; the guard
/// turns it on just before its first FIFREEZE and puts the previous value back as soon as the
/// last one returns. Where the file is missing or read-only (a container, no root) nothing changes.
public struct KernelGracePeriods: Sendable {
    public static let system = KernelGracePeriods(path: "/sys/kernel/rcu_expedited")

    /// The switch's path; tests use a file of their own.
    public let path: String

    public init(path: String) { self.path = path }

    /// Turns expediting on; returns what `restore` needs, or nil when it was on already or
    /// cannot be changed here.
    public func expedite() -> Restore? {
        guard let current = read(), current == "0", write("1") else { return nil }
        return Restore(periods: self, previous: current)
    }

    /// True while the kernel expedites them, whoever turned it on.
    public var isOn: Bool { read() == "1" }

    /// The previous value, to put back once the freezes are taken.
    public struct Restore: Sendable {
        let periods: KernelGracePeriods
        let previous: String

        public func callAsFunction() { _ = periods.write(previous) }
    }

    private func read() -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = Glibc.read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self).filter { !$0.isWhitespace }
    }

    private func write(_ value: String) -> Bool {
        let fd = Glibc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        let bytes = Array(value.utf8)
        return Glibc.write(fd, bytes, bytes.count) == bytes.count
    }
}
