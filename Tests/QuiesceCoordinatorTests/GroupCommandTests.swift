import Foundation
import QuiesceCoordinator
import Testing

@Suite("Group command")
struct GroupCommandTests {
    private func script(_ body: String) throws -> (String, String) {
        let directory = NSTemporaryDirectory() + "quiesce-group-command-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/command.sh"
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        return (path, directory)
    }

    @Test func theLastLineOfStandardOutputIsTheSnapshotId() async throws {
        let (path, directory) = try script("echo progress >&2; echo \"$QUIESCE_GROUP\"; echo snap-7")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = await GroupCommand(
            arguments: [path], environment: ["QUIESCE_GROUP": "db"], deadline: .seconds(30)
        ).run()
        #expect(outcome.succeeded && outcome.snapshotId == "snap-7" && outcome.failure == nil)
    }

    @Test func aFailureSaysHowItEndedWithTheEndOfBothStreams() async throws {
        let (path, directory) = try script("echo working; echo 'quota exceeded' >&2; exit 3")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = await GroupCommand(arguments: [path], environment: [:], deadline: .seconds(30)).run()
        let failure = try #require(outcome.failure)
        #expect(!outcome.succeeded && failure.contains("exited with status 3"), "\(failure)")
        #expect(failure.contains("working") && failure.contains("quota exceeded"), "\(failure)")
    }

    @Test func atTheDeadlineTheWholeProcessGroupGetsSIGTERMBeforeSIGKILL() async throws {
        let (path, directory) = try script("")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = directory + "/terminated"
        // A child of the command, in its process group, that cleans up on SIGTERM.
        try "#!/bin/sh\nsh -c 'trap \"echo child >> \(marker); exit 0\" TERM; while :; do sleep 0.05; done' &\nwait\n"
            .write(toFile: path, atomically: false, encoding: .utf8)
        let outcome = await GroupCommand(arguments: [path], environment: [:], deadline: .milliseconds(500)).run()
        #expect(!outcome.succeeded && outcome.failure?.contains("deadline") == true, "\(outcome)")
        #expect(
            try String(contentsOfFile: marker, encoding: .utf8) == "child\n",
            "the child was asked to stop, not only killed")
    }

    @Test func aCommandThatCannotStartSaysSo() async {
        let outcome = await GroupCommand(
            arguments: ["/nonexistent/snapshot-disks"], environment: [:], deadline: .seconds(5)
        ).run()
        #expect(
            !outcome.succeeded && outcome.failure?.hasPrefix("cannot start /nonexistent/snapshot-disks") == true,
            "\(outcome)")
    }
}
