import Foundation
import QuiesceSystem
import QuiesceTestSupport
import SystemPackage
import Testing

@Suite("Script runner against real processes")
struct ScriptRunnerTests {
    let directory: TemporaryDirectory
    init() throws { directory = try TemporaryDirectory() }

    private func script(_ name: String, _ body: String, shebang: String = "#!/bin/sh") throws -> FilePath {
        FilePath(try directory.write(name, "\(shebang)\n\(body)\n", mode: 0o700))
    }

    /// The default budget is far beyond what these scripts need: a test process running many
    /// others in parallel may leave them waiting for seconds before they start or are reaped.
    private func run(
        _ path: FilePath, _ arguments: [String] = [], budget: Duration = .seconds(120), retries: Int = 0,
        grace: Duration = .seconds(5)
    ) async -> ScriptRun {
        await ScriptRunner().run(
            ScriptInvocation(
                executable: path, arguments: arguments, environment: ["PATH": "/usr/bin:/bin"], budget: budget,
                retries: retries, killGrace: grace))
    }

    @Test func successIsExitZeroWithOutputKept() async throws {
        defer { directory.remove() }
        let run = await run(try script("ok", "echo out; echo err >&2"))
        #expect(run.outcome == .succeeded)
        #expect(run.attempts == 1)
        #expect(run.exitCode == 0)
        #expect(run.stdout.text == "out\n")
        #expect(run.stderr.text == "err\n")
    }

    @Test func aScriptStillOpenForWritingIsRunOnceItIsClosed() async throws {
        defer { directory.remove() }
        let path = try script("busy", "echo ran")
        // As while a configuration tool is still writing it: exec gives ETXTBSY until it is closed.
        let writer = open(path.string, O_WRONLY)
        let closer = Task {
            try await Task.sleep(for: .milliseconds(150))
            close(writer)
        }
        let run = await run(path)
        try await closer.value
        #expect(run.outcome == .succeeded, "\(run.outcome)")
        #expect(run.attempts == 1, "waiting for the file is not a retry of the script")
        #expect(run.stdout.text == "ran\n")
    }

    @Test func aFailingScriptIsReallyRerunForEachRetry() async throws {
        defer { directory.remove() }
        let counter = directory.url("count")
        let run = await run(try script("fail", "echo x >> \(counter); exit 3"), retries: 2)
        #expect(run.outcome == .failed)
        #expect(run.attempts == 3)
        #expect(run.exitCode == 3)
        #expect(try directory.read("count") == "x\nx\nx\n")
    }

    @Test func aRetryThatSucceedsEndsTheRun() async throws {
        defer { directory.remove() }
        let counter = directory.url("count")
        let body = "echo x >> \(counter); [ $(wc -l < \(counter)) -ge 2 ]"
        let run = await run(try script("flaky", body), retries: 5)
        #expect(run.outcome == .succeeded)
        #expect(run.attempts == 2)
    }

    @Test func aTimeoutKillsTheWholeProcessGroupAndEndsTheBudget() async throws {
        defer { directory.remove() }
        let pidFile = directory.url("grandchild.pid")
        // The grandchild ignores SIGTERM, so only the SIGKILL after the grace period ends it.
        let body = """
            sh -c 'trap "" TERM; echo $$ > \(pidFile); exec sleep 300' &
            sleep 300
            """
        let run = await run(try script("hang", body), budget: .milliseconds(600), retries: 3, grace: .milliseconds(300))
        #expect(run.outcome == .timedOut)
        #expect(run.attempts == 1)
        let grandchild = try #require(
            pid_t(try directory.read("grandchild.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        // SIGKILL was sent before the run returned; its delivery may take a moment.
        #expect(await eventually(within: 2) { ProcessState.isGone(grandchild) }, "the grandchild must be dead")
    }

    @Test func fiveMebibytesOfOutputNeverStallTheScriptAndTheTailIsKept() async throws {
        defer { directory.remove() }
        let body = "head -c 5242880 /dev/zero | tr '\\0' a; echo; echo LAST-LINE"
        let run = await run(try script("chatty", body))
        #expect(run.outcome == .succeeded)
        #expect(run.stdout.totalBytes == 5 * 1024 * 1024 + 11)
        #expect(run.stdout.bytes.count == 64 * 1024)
        let endsWithLastLine = run.stdout.text.hasSuffix("aaa\nLAST-LINE\n")
        #expect(endsWithLastLine)
    }

    @Test func aBashScriptRunsThroughItsShebangAlthoughShIsDash() async throws {
        defer { directory.remove() }
        let body = """
            names=(alpha beta)
            if [[ ${#names[@]} -eq 2 && ${names[1]} == beta ]]; then echo bash-ok; else exit 9; fi
            """
        let run = await run(try script("bashism", body, shebang: "#!/bin/bash"))
        #expect(run.outcome == .succeeded)
        #expect(run.stdout.text == "bash-ok\n")
    }

    @Test func parametersWithSpacesAndEmptyStringsArriveIntact() async throws {
        defer { directory.remove() }
        let run = await run(
            try script("args", #"for a in "$@"; do printf '[%s]' "$a"; done"#), ["", "two words", "", "$HOME;x"])
        #expect(run.stdout.text == "[][two words][][$HOME;x]")
    }

    @Test func aScriptWithoutShebangRunsWithSh() async throws {
        defer { directory.remove() }
        let path = try directory.write("plain", "echo from-sh \"$1\"\n", mode: 0o700)
        let run = await run(FilePath(path), ["arg"])
        #expect(run.outcome == .succeeded)
        #expect(run.stdout.text == "from-sh arg\n")
    }

    @Test func aMissingInterpreterIsReportedNotHidden() async throws {
        defer { directory.remove() }
        let run = await run(try script("nointerp", "true", shebang: "#!/nonexistent/interpreter"))
        guard case .couldNotStart(let reason) = run.outcome else {
            Issue.record("expected couldNotStart, got \(run.outcome)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func aBackgroundHolderLeftByASuccessfulScriptSurvivesAndDoesNotBlock() async throws {
        defer { directory.remove() }
        let pidFile = directory.url("holder.pid")
        // Like a database quiesce that must hold its lock until the post-script: the holder keeps
        // running, and even keeps stdout open, but the script itself is done.
        // It lives far longer than this test could be kept waiting by others sharing the test
        // process's threads; a runner that waited for it would take that long and find it gone.
        let body = "sleep 600 & echo $! > \(pidFile); echo started"
        let run = await run(try script("holder", body))
        #expect(run.outcome == .succeeded)
        let holder = try #require(
            pid_t(try directory.read("holder.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(holder, SIGKILL) }
        #expect(!ProcessState.isGone(holder), "a successful script's background process is left alone")
    }

    @Test func deathBySignalIsAFailure() async throws {
        defer { directory.remove() }
        let run = await run(try script("selfkill", "kill -9 $$"))
        #expect(run.outcome == .failed)
        #expect(run.signal == 9)
        #expect(run.exitCode == nil)
    }
}
