import Glibc
import QuiesceFuzzTargets
import QuiesceSystem

// quiesce-fuzz TARGET [libFuzzer options] [CORPUS_DIR...]
//
// Built by scripts/fuzz.sh with `--sanitize fuzzer` and `-DQUIESCE_FUZZ`, it is a libFuzzer
// target: libFuzzer's own `main` runs, and the target's name is taken off the command line
// before libFuzzer reads its options. In an ordinary build it replays the files or directories
// given instead, so a crash input can be checked without the fuzzing toolchain.

/// The target named by the first argument, or a usage message and exit 2.
func target(named arguments: [String]) -> FuzzTarget {
    guard arguments.count >= 2, let target = FuzzTarget(rawValue: arguments[1]) else {
        CurrentProcess.writeToStandardError(
            "usage: quiesce-fuzz TARGET [options] [CORPUS...]; targets: "
                + FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ") + "\n")
        CurrentProcess.exit(2)
    }
    return target
}

#if QUIESCE_FUZZ
    /// Set once by `LLVMFuzzerInitialize`, before the first input: a C callback cannot capture.
    nonisolated(unsafe) var selected: FuzzTarget?

    @_cdecl("LLVMFuzzerInitialize")
    func initialize(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>
    ) -> CInt {
        let arguments = (0..<Int(argc.pointee)).map { String(cString: argv.pointee[$0]!) }
        selected = target(named: arguments)
        // Drop the target's name: libFuzzer would take it for a corpus directory.
        for index in 1..<Int(argc.pointee) { argv.pointee[index] = argv.pointee[index + 1] }
        argc.pointee -= 1
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        selected?.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
#else
    @main
    enum QuiesceFuzz {
        static func main() throws {
            let arguments = CommandLine.arguments
            let target = target(named: arguments)
            var replayed = 0
            for path in arguments.dropFirst(2) {
                for file in FuzzTarget.inputs(at: path) {
                    target.run(try FileReader.read(file))
                    replayed += 1
                }
            }
            print("replayed \(replayed) input(s) through \(target.rawValue) without a crash")
        }
    }
#endif
