import Glibc
import SystemPackage

/// A non-blocking close-on-exec pipe used to wake a `poll` loop.
struct Pipe {
    let readEnd: CInt
    let writeEnd: CInt

    init() throws(Errno) {
        let ends = try FileDescriptor.pipe(options: FileDescriptor.PipeOptions(rawValue: O_CLOEXEC | O_NONBLOCK))
        readEnd = ends.readEnd.rawValue
        writeEnd = ends.writeEnd.rawValue
    }

    static func notify(_ fd: CInt) {
        var byte: UInt8 = 1
        _ = Glibc.write(fd, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while Glibc.read(readEnd, &buffer, buffer.count) > 0 {}
    }
}

/// Turns the catchable termination signals into bytes on a pipe the guard's loop polls.
struct SignalPipe {
    static let signals = [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM]
    private let pipe: Pipe
    var readEnd: CInt { pipe.readEnd }

    static func install() throws(Errno) -> SignalPipe {
        let pipe = try Pipe()
        signalWriteEnd = pipe.writeEnd
        // The inherited signal mask may block some of them (a parent's thread did): unblock them,
        // or a SIGTERM would wait forever while the freeze is held.
        var handled = sigset_t()
        sigemptyset(&handled)
        for signal in signals {
            _ = Glibc.signal(signal, onSignal)
            sigaddset(&handled, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &handled, nil)
        return SignalPipe(pipe: pipe)
    }

    /// The first signal that arrived.
    func take() -> Int32 {
        var byte: UInt8 = 0
        return Glibc.read(pipe.readEnd, &byte, 1) == 1 ? Int32(byte) : 0
    }
}

/// Written once at start-up, read only by the signal handler.
nonisolated(unsafe) private var signalWriteEnd: CInt = -1

private func onSignal(_ signal: CInt) {
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalWriteEnd, &byte, 1)
}
