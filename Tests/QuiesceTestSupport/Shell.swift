import Foundation
import QuiesceSystem

/// Runs short helper commands (mkfs, mount, fsfreeze) for test set-up.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var status: Int32
        public var output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs `command` (argv[0] looked up in PATH) and returns its output (standard output and
    /// error together); throws when it exits non-zero. `environment` replaces ours.
    ///
    /// Through `ChildProcess`, which gives the command no descriptor of ours and default signal
    /// handling: a command that leaves a daemon behind (pg_ctl start) must not hand it the test
    /// process's pipes, or whoever waits for them waits as long as the daemon lives.
    @discardableResult
    public static func run(
        _ command: [String], environment: [String: String]? = nil, workingDirectory: String? = nil
    ) throws -> String {
        var arguments = ["/usr/bin/env"]
        if let environment { arguments += ["-i"] + environment.map { "\($0.key)=\($0.value)" } }
        if let workingDirectory { arguments += ["-C", workingDirectory] }
        var (termination, text) = try ChildProcess.run(arguments + command)
        // A script a test has just written cannot be executed while a child that another test
        // forked in that instant still holds its write descriptor (until that child's exec):
        // env says ETXTBSY. It is gone a moment later.
        for pause in [20, 80, 320] where termination == .exited(126) && text.contains("Text file busy") {
            CurrentProcess.sleep(for: .milliseconds(pause))
            (termination, text) = try ChildProcess.run(arguments + command)
        }
        guard termination == .exited(0) else {
            let status: Int32 =
                switch termination {
                case .exited(let code): code
                case .signaled(let signal): 128 + signal
                case .vanished: -1
                }
            throw Failure(command: command, status: status, output: text)
        }
        return text
    }

    /// The process's exit status and output, for commands whose failure is the point.
    public static func status(_ command: [String]) throws -> (status: Int32, output: String) {
        do {
            return (0, try run(command))
        } catch let failure as Failure {
            return (failure.status, failure.output)
        }
    }
}
