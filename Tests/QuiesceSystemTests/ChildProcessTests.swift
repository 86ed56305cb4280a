import Foundation
import QuiesceTestSupport
import Testing

@testable import QuiesceSystem

@Suite("Child processes")
struct ChildProcessTests {
    @Test func runReturnsTheStatusAndBothStreamsInterleaved() throws {
        let (termination, output) = try ChildProcess.run(["sh", "-c", "echo one; echo two >&2; exit 3"])
        #expect(termination == .exited(3))
        #expect(output == "one\ntwo\n")
    }

    @Test func aProgramThatDoesNotExistIsASystemErrorNamingIt() {
        #expect(throws: SystemError.self) { try ChildProcess.run(["/nonexistent/quiesce-tool"]) }
        do {
            _ = try ChildProcess.run(["/nonexistent/quiesce-tool"])
        } catch {
            #expect(error.subject == "/nonexistent/quiesce-tool" && error.isNotFound)
        }
    }

    @Test func runDoesNotWaitForABackgroundGrandchildHoldingTheOutput() throws {
        let (termination, output) = try ChildProcess.run(["sh", "-c", "sleep 60 & echo $!"])
        let grandchild = try #require(Int32(output.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(grandchild, SIGKILL) }
        #expect(termination == .exited(0))
        #expect(
            CurrentProcess.isAlive(processId: grandchild), "run returned while the grandchild still held the output")
    }

    @Test func inheritsNoDescriptorOfOursButTheThreeItIsGiven() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let held = open(directory.url("held"), O_WRONLY | O_CREAT, 0o600)
        defer { close(held) }
        let (_, output) = try ChildProcess.run(["sh", "-c", "ls /proc/self/fd"])
        let descriptors = output.split(separator: "\n").compactMap { Int($0) }
        #expect(!descriptors.contains(Int(held)), "\(descriptors)")
    }

    @Test func withoutClosefromEveryDescriptorIsMarkedCloseOnExec() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let held = open(directory.url("held"), O_WRONLY | O_CREAT, 0o600)
        defer { close(held) }
        #expect(fcntl(held, F_GETFD) & FD_CLOEXEC == 0)
        ChildProcess.markCloseOnExec(from: held)
        #expect(fcntl(held, F_GETFD) & FD_CLOEXEC != 0, "the older glibc's fallback")
    }

    @Test func stopSendsSIGTERMThenSIGKILLAfterTheGrace() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let ready = directory.url("ready")
        let child = try ChildProcess.start(["sh", "-c", "trap '' TERM; touch \(ready); while :; do sleep 0.05; done"])
        while !FileManager.default.fileExists(atPath: ready) { CurrentProcess.sleep(for: .milliseconds(10)) }
        #expect(child.isRunning)
        #expect(child.stop(grace: .milliseconds(300)) == .signaled(SIGKILL))
        #expect(!child.isRunning)
        child.signal(SIGTERM)  // gone and reaped: no error, no stray signal
    }

    @Test func aChildThatObeysSIGTERMEndsByIt() throws {
        let child = try ChildProcess.start(["sleep", "30"])
        #expect(child.stop(grace: .seconds(10)) == .signaled(SIGTERM))
    }

    @Test func standardErrorGoesToTheFileItIsGiven() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let log = directory.url("child.log")
        let child = try ChildProcess.start(["sh", "-c", "echo to-stderr >&2; echo to-stdout"], stderr: .file(log))
        #expect(child.wait() == .exited(0))
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "to-stderr\n")
    }
}
