import Foundation
import QuiesceAPI
import QuiesceAgent
import QuiesceSystem
import QuiesceTestSupport
import SystemPackage
import Testing

/// The cycle with real scripts, a recording freezer and a recording snapshot provider.
@Suite("Backup cycle")
struct BackupCycleTests {
    @Test func allGoodRunsEverythingInOrderAndIsApplicationConsistent() async throws {
        let fixture = try FrameworkFixture(pre: "echo quiesced", post: "echo released")
        defer { fixture.remove() }
        let freezer = RecordingFreezer()
        let provider = RecordingProvider()
        let report = await fixture.run(freezer: freezer, provider: provider)
        #expect(report.status == .succeeded)
        #expect(report.consistency == .applicationConsistent)
        #expect(report.errors.isEmpty)
        #expect(
            freezer.log == [
                "flush /frozen/a", "flush /frozen/b", "freeze /frozen/a", "freeze /frozen/b", "thaw /frozen/b",
                "thaw /frozen/a",
            ], "flushed after the pre-script, before the freeze")
        #expect(report.freeze.flushAfterPreScriptsMs != nil)
        #expect(provider.received.map(\.frozenMounts) == [["/frozen/a", "/frozen/b"]])
        #expect(provider.received.first?.sessionId == "test-session")
        #expect(report.preScript.stdoutTail == "quiesced\n")
        #expect(report.postScript.stdoutTail == "released\n")
        #expect(report.freeze.heldThroughSnapshot)
        #expect(report.freeze.mounts == ["/frozen/a", "/frozen/b"])
        #expect(report.freeze.frozenMs != nil)
        #expect(report.snapshot.taken && report.snapshot.usable && report.snapshot.id == "snap-1")
        #expect(
            fixture.environment(of: "pre.sh")
                == ["QUIESCE_PHASE=pre", "QUIESCE_SESSION_ID=test-session", "arg=[]", "arg=[]"])
        #expect(
            fixture.environment(of: "post.sh") == [
                "QUIESCE_PHASE=post", "QUIESCE_PRE_RESULT=succeeded", "QUIESCE_SESSION_ID=test-session",
                "QUIESCE_SNAPSHOT_RESULT=taken", "arg=[]", "arg=[]",
            ])
    }

    @Test func aFailingPreScriptWithoutContinueTakesNoSnapshotButReleasesTheApplication() async throws {
        var fixture = try FrameworkFixture(pre: "echo 'database refused the lock' >&2; exit 7")
        defer { fixture.remove() }
        fixture.config["continueBackupOnFailure"] = false
        fixture.config["preScriptNoOfRetries"] = 2
        // The retries are the point, not the budget: on a machine the rest of the suite keeps
        // busy, three starts of a script can take longer than the fixture's 30 s.
        fixture.config["timeoutInSeconds"] = 240
        try fixture.writeConfig()
        let freezer = RecordingFreezer()
        let report = await fixture.run(freezer: freezer)
        #expect(report.status == .failed)
        #expect(report.consistency == Consistency.none)
        #expect(freezer.log.isEmpty)
        #expect(!report.snapshot.taken)
        #expect(report.preScript.attempts == 3)
        #expect(report.preScript.exitCode == 7)
        #expect(report.preScript.stderrTail == "database refused the lock\n")
        let error = try #require(report.errors.first)
        #expect(error.code == .preScriptExecutionFailed && error.legacyCode == 300 && error.phase == .preScript)
        #expect(error.message.contains("exited with status 7 after 3 tries"))
        #expect(error.message.contains("it said: database refused the lock"))
        let post = try #require(fixture.environment(of: "post.sh"))
        #expect(post.contains("QUIESCE_PRE_RESULT=failed"))
        #expect(post.contains("QUIESCE_SNAPSHOT_RESULT=skipped"))
    }

    @Test func scriptsGetTheHomeOfTheAccountTheAgentRunsAsAndNothingElseOfItsEnvironment() async throws {
        let fixture = try FrameworkFixture(pre: #"echo "home=$HOME user=$USER logname=$LOGNAME term=${TERM-unset}""#)
        defer { fixture.remove() }
        let report = await fixture.run(freezer: RecordingFreezer())
        let account = try #require(CurrentProcess.account)
        #expect(
            report.preScript.stdoutTail
                == "home=\(account.home) user=\(account.name) logname=\(account.name) term=unset\n")
    }

    @Test func aFailureIsQuotedByTheLinesThatSayWhatWentWrongNotByATrailingHint() async throws {
        let fixture = try FrameworkFixture(
            pre: #"""
                printf 'connecting\n' >&2
                printf 'psql: error: connection to server on socket "/run/pg/.s.PGSQL.5432" failed: No such file\n' >&2
                printf '\tIs the server running locally and accepting connections on that socket?\n' >&2
                exit 2
                """#)
        defer { fixture.remove() }
        let report = await fixture.run(freezer: RecordingFreezer())
        let error = try #require(report.errors.first)
        #expect(
            error.message.hasSuffix(
                #"it said: psql: error: connection to server on socket "/run/pg/.s.PGSQL.5432" failed: No such file"#),
            "\(error.message)")
        #expect(!error.message.contains("\t"))
    }

    @Test func aPreScriptTimeoutIsKilledAndFallsBackToFileSystemConsistency() async throws {
        var fixture = try FrameworkFixture(pre: "sleep 60")
        defer { fixture.remove() }
        fixture.config["timeoutInSeconds"] = 1
        fixture.config["preScriptNoOfRetries"] = 5
        try fixture.writeConfig()
        let report = await fixture.run()
        #expect(report.status == .succeeded)
        #expect(report.consistency == .fileSystemConsistent)
        #expect(report.preScript.result == .timedOut)
        #expect(report.preScript.attempts == 1)
        #expect(report.errors.map(\.code) == [.preScriptTimeout])
        #expect(fixture.environment(of: "post.sh")?.contains("QUIESCE_PRE_RESULT=timedOut") == true)
    }

    @Test func aMissingScriptRunsNoScriptAndSaysWhich() async throws {
        var fixture = try FrameworkFixture()
        defer { fixture.remove() }
        fixture.config["postScriptLocation"] = fixture.directory.url("missing.sh")
        try fixture.writeConfig()
        let report = await fixture.run()
        #expect(report.consistency == .fileSystemConsistent)
        #expect(report.errors.map(\.code) == [.postScriptNotFound])
        #expect(report.errors.first?.message.contains("missing.sh") == true)
        #expect(fixture.environment(of: "pre.sh") == nil, "no script runs when one is missing")
        #expect(report.preScript.result == .skipped && report.postScript.result == .skipped)
    }

    @Test func anEmptyScriptLocationIsNotFound() async throws {
        var fixture = try FrameworkFixture()
        defer { fixture.remove() }
        fixture.config["preScriptLocation"] = ""
        fixture.config["continueBackupOnFailure"] = false
        try fixture.writeConfig()
        let report = await fixture.run()
        #expect(report.status == .failed)
        #expect(report.errors.map(\.code) == [.preScriptNotFound])
        #expect(report.errors.first?.message.contains("`preScriptLocation` is empty") == true)
    }

    @Test func aScriptWithLooseModeIsRefused() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        try fixture.directory.chmod("pre.sh", 0o755)
        let report = await fixture.run()
        #expect(report.errors.map(\.code) == [.insufficientPermissionForPreScript])
        #expect(report.errors.first?.message.contains("chmod 0700") == true)
        #expect(fixture.environment(of: "pre.sh") == nil)
    }

    @Test func aBrokenConfigIsReportedAndFallsBackWithDefaults() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        var config = fixture.config
        config["fsFreezeEnabled"] = "false"
        config["continueBackupOnFailure"] = false
        try fixture.writeConfig(config)
        let freezer = RecordingFreezer()
        let report = await fixture.run(freezer: freezer)
        #expect(report.status == .succeeded)
        #expect(report.consistency == .fileSystemConsistent, "defaults apply: freeze on, continue on")
        #expect(report.errors.map(\.code) == [.incorrectJSONConfigFile])
        #expect(report.errors.first?.message.contains("`fsFreezeEnabled` must be a boolean") == true)
        #expect(freezer.log.count == 4)
        #expect(fixture.environment(of: "pre.sh") == nil)
    }

    @Test func aConfigReadableByOthersIsRefused() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        try fixture.directory.chmod("VMSnapshotScriptPluginConfig.json", 0o644)
        let report = await fixture.run()
        #expect(report.errors.map(\.code) == [.incorrectJSONConfigFile])
        #expect(report.errors.first?.message.contains("unsafe permissions") == true)
    }

    @Test func noConfigAtAllIsNotConfiguredWithoutErrors() async throws {
        var fixture = try FrameworkFixture()
        defer { fixture.remove() }
        fixture.settings.pluginConfigPath = fixture.directory.url("absent.json")
        let report = await fixture.run()
        #expect(report.configState == .notConfigured)
        #expect(report.errors.isEmpty)
        #expect(report.consistency == .fileSystemConsistent)
        #expect(report.status == .succeeded)
    }

    @Test func aFreezeFailureThawsWhatWasFrozenAndFallsBackToCrashConsistency() async throws {
        let fixture = try FrameworkFixture(mounts: ["/frozen/a", "/frozen/b", "/frozen/c"])
        defer { fixture.remove() }
        let freezer = RecordingFreezer(failing: ["/frozen/b": .resourceBusy])
        let provider = RecordingProvider()
        let report = await fixture.run(freezer: freezer, provider: provider)
        #expect(
            freezer.log == [
                "flush /frozen/a", "flush /frozen/b", "flush /frozen/c", "freeze /frozen/a", "freeze /frozen/b",
                "thaw /frozen/a",
            ])
        #expect(report.consistency == .crashConsistent)
        #expect(report.status == .succeeded)
        #expect(provider.received.map(\.frozenMounts) == [[]], "the snapshot is taken unfrozen")
        let error = try #require(report.errors.first)
        #expect(error.code == .fsFreezeFailed)
        #expect(error.message.contains("freezing /frozen/b failed: ioctl(FIFREEZE): Device or resource busy"))
        #expect(error.message.contains("already frozen by someone else"))
        #expect(error.message.contains("thawed again at once: /frozen/a"))
        #expect(report.freeze.mounts.isEmpty && !report.freeze.heldThroughSnapshot)
    }

    @Test func aFreezeThawedBehindOurBackIsReportedAsFsFreezeTimeout() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let report = await fixture.run(freezer: RecordingFreezer(thawedBehindOurBack: ["/frozen/a"]))
        #expect(report.consistency == .crashConsistent)
        #expect(report.errors.map(\.code) == [.fsFreezeTimeout])
        #expect(!report.freeze.heldThroughSnapshot)
    }

    @Test func noMountsToFreezeIsAnErrorNotASilentDowngrade() async throws {
        let fixture = try FrameworkFixture(mounts: [])
        defer { fixture.remove() }
        let report = await fixture.run()
        #expect(report.consistency == .crashConsistent)
        #expect(report.errors.map(\.code) == [.fsFreezeFailed])
        #expect(report.errors.first?.message.contains("`freeze.mounts` is empty") == true)
    }

    @Test func aFailedSnapshotStillThawsAndReleasesTheApplication() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let freezer = RecordingFreezer()
        let report = await fixture.run(
            freezer: freezer, provider: RecordingProvider(outcome: .failed("disk API said no", output: "HTTP 500")))
        #expect(report.status == .failed)
        #expect(freezer.log.suffix(2) == ["thaw /frozen/b", "thaw /frozen/a"])
        #expect(report.errors.map(\.code) == [.snapshotFailed])
        #expect(report.errors.first?.message == "disk API said no; its output ends: HTTP 500")
        #expect(fixture.environment(of: "post.sh")?.contains("QUIESCE_SNAPSHOT_RESULT=failed") == true)
    }

    @Test func aFailingPostScriptDowngradesOrMakesTheSnapshotUnusable() async throws {
        var fixture = try FrameworkFixture(post: "echo 'could not unlock' >&2; exit 1")
        defer { fixture.remove() }
        let continuing = await fixture.run()
        #expect(continuing.status == .succeeded && continuing.consistency == .fileSystemConsistent)
        #expect(continuing.errors.map(\.code) == [.postScriptExecutionFailed])
        fixture.config["continueBackupOnFailure"] = false
        try fixture.writeConfig()
        let strict = await fixture.run()
        #expect(strict.status == .failed)
        #expect(strict.snapshot.taken && !strict.snapshot.usable)
    }

    @Test func aPostScriptMadeUnsafeAfterThePrecheckIsNotRun() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        // The pre-script loosens the post-script's mode, as an attacker with a foothold might.
        try fixture.script("pre.sh", "chmod 0755 \(fixture.directory.url("post.sh"))")
        let report = await fixture.run()
        #expect(report.errors.map(\.code) == [.insufficientPermissionForPostScript])
        #expect(report.errors.first?.message.contains("checked again before it ran") == true)
        #expect(fixture.environment(of: "post.sh") == nil)
        #expect(report.postScript.result == .failed)
    }

    @Test func pluginsFromAHostFileRunTheirPreScriptsConcurrently() async throws {
        var fixture = try FrameworkFixture()
        defer { fixture.remove() }
        // Each pre-script waits for the other's marker: only concurrent runs can both succeed.
        let marker = { (name: String) in fixture.directory.url("\(name).started") }
        let waitFor = { (mine: String, theirs: String) in
            "touch \(marker(mine)); for i in $(seq 100); do [ -e \(marker(theirs)) ] && exit 0; sleep 0.05; done; exit "
                + "1"
        }
        try fixture.script("pre-a.sh", waitFor("a", "b"))
        try fixture.script("pre-b.sh", waitFor("b", "a"))
        for name in ["a", "b"] {
            var config = fixture.config
            config["preScriptLocation"] = fixture.directory.url("pre-\(name).sh")
            config["timeoutInSeconds"] = 600
            try fixture.writeConfig(to: "\(name).json", config)
        }
        try fixture.directory.write(
            "VMSnapshotPluginHost.conf",
            """
            [pre_post]
            timeoutInSeconds = 20
            numberOfPlugins = 2
            pluginName0 = alpha
            pluginConfigPath0 = \(fixture.directory.url("a.json"))
            pluginName1 = beta
            pluginConfigPath1 = \(fixture.directory.url("b.json"))
            """, mode: 0o644)
        fixture.settings.pluginConfigPath = fixture.directory.url("unused.json")
        let report = await fixture.run()
        #expect(report.plugins.map(\.name) == ["alpha", "beta"])
        #expect(report.plugins.map(\.preScript.result) == [.succeeded, .succeeded])
        #expect(report.consistency == .applicationConsistent, "\(report.errors)")
        #expect(report.warnings.count == 2, "both budgets are capped by the host file")
        #expect(report.warnings.first?.message.contains("capped to 20 s by the host file") == true)
    }

    @Test func aHostFileNamingAMissingConfigIsIncorrectPluginhostFile() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        try fixture.directory.write(
            "VMSnapshotPluginHost.conf", "[pre_post]\nnumberOfPlugins = 1\npluginConfigPath0 = /nonexistent/c.json\n")
        let report = await fixture.run()
        #expect(report.errors.map(\.code) == [.incorrectPluginhostFile])
        #expect(report.consistency == .fileSystemConsistent)
    }

    @Test func theCommandProviderGetsTheSessionAndMountsAndItsLastLineIsTheId() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let log = fixture.directory.url("snapshot.env")
        try fixture.directory.write(
            "snapshot.sh",
            "#!/bin/sh\nprintf '%s|%s|%s' \"$QUIESCE_SESSION_ID\" \"$QUIESCE_FROZEN_MOUNTS\" \"$1\" > \(log)\necho "
                + "progress\necho snap-0042\n",
            mode: 0o700)
        let provider = CommandSnapshotProvider(
            command: [fixture.directory.url("snapshot.sh"), "--all"], timeout: .seconds(10), killGrace: .seconds(1))
        let report = await fixture.run(provider: provider)
        #expect(report.snapshot.id == "snap-0042")
        #expect(report.snapshot.provider == "command")
        #expect(try fixture.directory.read("snapshot.env") == "test-session|/frozen/a\n/frozen/b|--all")
    }

    @Test func aFailingSnapshotCommandIsSnapshotFailedWithItsOutput() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        try fixture.directory.write("snapshot.sh", "#!/bin/sh\necho 'quota exceeded' >&2\nexit 3\n", mode: 0o700)
        let provider = CommandSnapshotProvider(
            command: [fixture.directory.url("snapshot.sh")], timeout: .seconds(10), killGrace: .seconds(1))
        let report = await fixture.run(provider: provider)
        #expect(report.status == .failed)
        let message = try #require(report.errors.first?.message)
        #expect(message.contains("exited with status 3") && message.contains("quota exceeded"))
        #expect(report.snapshot.outputTail?.contains("quota exceeded") == true)
    }

    @Test func aMountThatCannotBeFlushedIsAWarningAndStillFrozen() async throws {
        let fixture = try FrameworkFixture()
        defer { fixture.remove() }
        let freezer = RecordingFreezer(failingFlush: ["/frozen/b": .ioError])
        let report = await fixture.run(freezer: freezer)
        #expect(report.consistency == .applicationConsistent)
        #expect(report.errors.isEmpty)
        #expect(report.warnings.map(\.code) == [.flushFailed])
        #expect(report.warnings.first?.message.contains("/frozen/b") == true)
        #expect(freezer.log.filter { $0.hasPrefix("freeze") } == ["freeze /frozen/a", "freeze /frozen/b"])
    }

    @Test func flushBeforeFreezeOffFlushesNothing() async throws {
        var fixture = try FrameworkFixture()
        defer { fixture.remove() }
        fixture.settings.freeze.flushBeforeFreeze = false
        let freezer = RecordingFreezer()
        let report = await fixture.run(freezer: freezer)
        #expect(report.consistency == .applicationConsistent)
        #expect(freezer.log.allSatisfy { !$0.hasPrefix("flush") })
        #expect(report.freeze.flushAfterPreScriptsMs == nil)
    }
}
