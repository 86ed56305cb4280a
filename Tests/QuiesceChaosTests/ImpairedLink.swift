import Foundation
import Synchronization

/// A link between two network namespaces through this process: a TAP device in each, and a
/// thread that carries every Ethernet frame from one to the other, dropping a share of them and
/// holding the rest for a delay when told to. Loss and delay so land on packets on the wire,
/// for connections already open as for new ones, on any kernel (`sch_netem` is often missing
/// where tests run). Closing the devices' descriptors (`stop()`) removes both devices.
final class ImpairedLink: Sendable {
    struct Impairment: Sendable, Equatable {
        /// Share of frames dropped, each way.
        var loss: Double
        /// How long each frame is held, each way.
        var delay: Duration

        static let none = Impairment(loss: 0, delay: .zero)
    }

    private struct Shared {
        var impairment = Impairment.none
        var stopped = false
    }

    private let shared = Mutex(Shared())
    private let finished = DispatchSemaphore(value: 0)

    /// Makes a TAP device named `firstName` in namespace `first` and one named `secondName` in
    /// `second` (names from `ip netns`), and starts carrying frames between them. The devices are
    /// down and without addresses: the caller sets them up with `ip`.
    init(first: String, firstName: String, second: String, secondName: String) throws {
        let handoff = Handoff()
        let thread = Thread { [self] in
            // setns moves this thread only; a device belongs to the namespace it was made in.
            let devices = Result { () throws(LinkError) -> (Int32, Int32) in
                try Self.enter(first)
                let one = try Self.openTap(named: firstName)
                do throws(LinkError) {
                    try Self.enter(second)
                    return (one, try Self.openTap(named: secondName))
                } catch {
                    close(one)
                    throw error
                }
            }
            handoff.devices.withLock { $0 = devices }
            handoff.ready.signal()
            if case .success(let (one, two)) = devices {
                carry(between: one, and: two)
                close(one)
                close(two)
            }
            finished.signal()
        }
        thread.name = "impaired-link"
        thread.start()
        handoff.ready.wait()
        if case .failure(let error) = handoff.devices.withLock({ $0! }) {
            finished.wait()
            throw error
        }
    }

    /// How the starting thread learns whether the devices were made.
    private final class Handoff: Sendable {
        let devices = Mutex<Result<(Int32, Int32), LinkError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
    }

    /// What happens to frames from now on, each way.
    func impair(_ impairment: Impairment) {
        shared.withLock { $0.impairment = impairment }
    }

    /// Stops carrying frames and removes both devices; returns once they are gone.
    func stop() {
        let wasRunning = shared.withLock { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        if wasRunning { finished.wait() }
    }

    struct LinkError: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: The carrying thread

    private struct Held {
        var due: ContinuousClock.Instant
        var frame: [UInt8]
    }

    private func carry(between one: Int32, and two: Int32) {
        var towardTwo: [Held] = []
        var towardOne: [Held] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if shared.withLock({ $0.stopped }) { return }
            let now = ContinuousClock.now
            Self.deliver(&towardTwo, to: two, now: now)
            Self.deliver(&towardOne, to: one, now: now)
            let nextDue = [towardTwo.first?.due, towardOne.first?.due].compactMap { $0 }.min()
            // Wake at the next frame due, and at least every 20 ms to notice `stop()`.
            let wait = min(nextDue.map { now.duration(to: $0) } ?? .milliseconds(20), .milliseconds(20))
            var descriptors = [
                pollfd(fd: one, events: Int16(POLLIN), revents: 0), pollfd(fd: two, events: Int16(POLLIN), revents: 0),
            ]
            let milliseconds = Int32(max(0, (wait / .milliseconds(1)).rounded(.up)))
            guard poll(&descriptors, 2, milliseconds) >= 0 || errno == EINTR else { return }
            // Read after the wait, so that a frame sent after `impair` returned is impaired.
            let impairment = shared.withLock { $0.impairment }
            let arrived = ContinuousClock.now
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                Self.receive(from: one, into: &towardTwo, buffer: &buffer, impairment: impairment, now: arrived)
            }
            if descriptors[1].revents & Int16(POLLIN) != 0 {
                Self.receive(from: two, into: &towardOne, buffer: &buffer, impairment: impairment, now: arrived)
            }
        }
    }

    /// Reads every frame waiting on `device`, dropping or holding each as `impairment` says.
    private static func receive(
        from device: Int32, into queue: inout [Held], buffer: inout [UInt8], impairment: Impairment,
        now: ContinuousClock.Instant
    ) {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(device, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            if impairment.loss > 0, Double.random(in: 0..<1) < impairment.loss { continue }
            queue.append(Held(due: now + impairment.delay, frame: Array(buffer[..<count])))
        }
    }

    /// Writes the frames whose time has come, in order. A device that is down refuses them:
    /// they are lost, as on a cut link.
    private static func deliver(_ queue: inout [Held], to device: Int32, now: ContinuousClock.Instant) {
        var sent = 0
        while sent < queue.count, queue[sent].due <= now {
            _ = queue[sent].frame.withUnsafeBytes { write(device, $0.baseAddress, $0.count) }
            sent += 1
        }
        queue.removeFirst(sent)
    }

    // MARK: Devices

    private static let cloneNewNet: Int32 = 0x4000_0000
    private static let tunSetInterface: UInt = 0x4004_54ca
    private static let tapFlags: Int16 = 0x0002 | 0x1000  // IFF_TAP | IFF_NO_PI: bare Ethernet frames

    /// Moves the calling thread into network namespace `name`.
    private static func enter(_ name: String) throws(LinkError) {
        typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { throw LinkError(description: "this libc has no setns") }
        let setNamespace = unsafeBitCast(symbol, to: SetNamespace.self)
        let namespace = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { throw LinkError(description: "cannot open namespace \(name): errno \(errno)") }
        defer { close(namespace) }
        guard setNamespace(namespace, cloneNewNet) == 0 else {
            throw LinkError(description: "cannot enter namespace \(name): errno \(errno)")
        }
    }

    /// A new TAP device named `name` in the calling thread's namespace, its descriptor
    /// non-blocking; the device lives until the descriptor is closed.
    private static func openTap(named name: String) throws(LinkError) -> Int32 {
        let device = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard device >= 0 else { throw LinkError(description: "cannot open /dev/net/tun: errno \(errno)") }
        // struct ifreq: the name in the first 16 bytes, then ifr_flags.
        var request = [UInt8](repeating: 0, count: 40)
        request.replaceSubrange(0..<min(name.utf8.count, 15), with: name.utf8.prefix(15))
        withUnsafeBytes(of: tapFlags.littleEndian) { request.replaceSubrange(16..<18, with: $0) }
        let result = request.withUnsafeMutableBytes { ioctl(device, tunSetInterface, $0.baseAddress!) }
        guard result == 0 else {
            let code = errno
            close(device)
            throw LinkError(description: "cannot make TAP device \(name): errno \(code)")
        }
        return device
    }
}
