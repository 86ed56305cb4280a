import QuiesceAPI
import Testing

@testable import QuiesceAgent

/// Every row of the decision table (framework.md section 5), walked through the machine with
/// scripted outcomes. Each test states the steps the cycle must take and where it must end.
@Suite("Decision table")
struct CycleMachineTests {
    typealias Outcome = CycleMachine.ScriptsOutcome

    /// What happens at each step, and the steps and verdict that result.
    struct Walk {
        var steps: [String] = []
        var verdict: CycleMachine.Verdict?
    }

    private func walk(
        _ precheck: Precheck.Verdict, continueOnFailure: Bool = true, freeze: Bool = true, singleDisk: Bool = false,
        pre: Outcome = .succeeded, freezeWorks: Bool = true, snapshotWorks: Bool = true, freezeHolds: Bool = true,
        post: Outcome = .succeeded
    ) -> Walk {
        var machine = CycleMachine(
            policy: CyclePolicy(continueOnFailure: continueOnFailure, freezeEnabled: freeze, singleDisk: singleDisk),
            precheck: precheck)
        var walk = Walk()
        for _ in 0..<10 {
            switch machine.next() {
            case .runPreScripts:
                walk.steps.append("pre")
                machine.preScripts = pre
            case .freeze:
                walk.steps.append("freeze")
                machine.freezeSucceeded = freezeWorks
            case .snapshot(let frozen):
                walk.steps.append(frozen ? "snapshot(frozen)" : "snapshot(unfrozen)")
                machine.snapshotTaken = snapshotWorks
            case .thaw:
                walk.steps.append("thaw")
                machine.freezeHeld = freezeHolds
            case .runPostScripts:
                walk.steps.append("post")
                machine.postScripts = post
            case .finish(let verdict):
                walk.verdict = verdict
                return walk
            }
        }
        Issue.record("the machine did not finish within 10 steps: \(walk.steps)")
        return walk
    }

    private func expect(
        _ walk: Walk, steps: [String], _ status: CycleReport.Status, _ consistency: Consistency, usable: Bool? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(walk.steps == steps, sourceLocation: sourceLocation)
        #expect(walk.verdict?.status == status, sourceLocation: sourceLocation)
        #expect(walk.verdict?.consistency == consistency, sourceLocation: sourceLocation)
        if let usable { #expect(walk.verdict?.snapshotUsable == usable, sourceLocation: sourceLocation) }
    }

    let frozenSnapshot = ["freeze", "snapshot(frozen)", "thaw"]

    @Test func allGoodIsApplicationConsistent() {
        for continueOnFailure in [true, false] {
            expect(
                walk(.ready, continueOnFailure: continueOnFailure), steps: ["pre"] + frozenSnapshot + ["post"],
                .succeeded, .applicationConsistent, usable: true)
        }
    }

    @Test func withoutFreezeSucceedingScriptsAreStillApplicationConsistent() {
        expect(
            walk(.ready, freeze: false), steps: ["pre", "snapshot(unfrozen)", "post"], .succeeded,
            .applicationConsistent)
    }

    @Test func noConfigFallsBackWithoutScriptsWhateverContinueSays() {
        for continueOnFailure in [true, false] {
            expect(
                walk(.notConfigured, continueOnFailure: continueOnFailure), steps: frozenSnapshot, .succeeded,
                .fileSystemConsistent)
        }
    }

    @Test func brokenConfigOrHostFileFallsBackWithoutScripts() {
        for continueOnFailure in [true, false] {
            expect(
                walk(.configBroken, continueOnFailure: continueOnFailure), steps: frozenSnapshot, .succeeded,
                .fileSystemConsistent)
        }
    }

    @Test func unusableScriptsFallBackWhenContinuing() {
        expect(walk(.scriptsUnusable), steps: frozenSnapshot, .succeeded, .fileSystemConsistent)
        expect(walk(.scriptsUnusable, freeze: false), steps: ["snapshot(unfrozen)"], .succeeded, .crashConsistent)
    }

    @Test func unusableScriptsFailTheBackupWhenNotContinuing() {
        expect(walk(.scriptsUnusable, continueOnFailure: false), steps: [], .failed, .none, usable: false)
    }

    @Test func unusableScriptsOnASingleDiskTakeAnUnfrozenCrashConsistentSnapshot() {
        expect(
            walk(.scriptsUnusable, continueOnFailure: false, singleDisk: true), steps: ["snapshot(unfrozen)"],
            .succeeded,
            .crashConsistent)
    }

    @Test func aFailedOrTimedOutPreScriptFallsBackAndStillRunsThePostScript() {
        for pre in [Outcome.failed, .timedOut] {
            expect(
                walk(.ready, pre: pre), steps: ["pre"] + frozenSnapshot + ["post"], .succeeded, .fileSystemConsistent)
            expect(
                walk(.ready, freeze: false, pre: pre), steps: ["pre", "snapshot(unfrozen)", "post"], .succeeded,
                .crashConsistent)
        }
    }

    @Test func aFailedPreScriptWithoutContinueFailsButStillRunsThePostScript() {
        for pre in [Outcome.failed, .timedOut] {
            expect(walk(.ready, continueOnFailure: false, pre: pre), steps: ["pre", "post"], .failed, .none)
        }
    }

    @Test func aFailedPreScriptOnASingleDiskTakesACrashConsistentSnapshot() {
        expect(
            walk(.ready, continueOnFailure: false, singleDisk: true, pre: .failed),
            steps: ["pre", "snapshot(unfrozen)", "post"], .succeeded, .crashConsistent)
    }

    @Test func aFailedPostScriptDowngradesToTheFallbackWhenContinuing() {
        for post in [Outcome.failed, .timedOut] {
            expect(
                walk(.ready, post: post), steps: ["pre"] + frozenSnapshot + ["post"], .succeeded, .fileSystemConsistent,
                usable: true)
            expect(
                walk(.ready, freeze: false, post: post), steps: ["pre", "snapshot(unfrozen)", "post"], .succeeded,
                .crashConsistent)
        }
    }

    @Test func aFailedPostScriptWithoutContinueMakesTheSnapshotUnusable() {
        for post in [Outcome.failed, .timedOut] {
            expect(
                walk(.ready, continueOnFailure: false, post: post), steps: ["pre"] + frozenSnapshot + ["post"], .failed,
                .none, usable: false)
        }
    }

    @Test func aFailedFreezeIsCrashConsistentWhenContinuing() {
        expect(
            walk(.ready, freezeWorks: false), steps: ["pre", "freeze", "snapshot(unfrozen)", "post"], .succeeded,
            .crashConsistent)
    }

    @Test func aFailedFreezeWithoutContinueFailsWithNoSnapshot() {
        expect(
            walk(.ready, continueOnFailure: false, freezeWorks: false), steps: ["pre", "freeze", "post"], .failed, .none
        )
    }

    @Test func aFailedFreezeOnASingleDiskIsCrashConsistent() {
        expect(
            walk(.ready, continueOnFailure: false, singleDisk: true, freezeWorks: false),
            steps: ["pre", "freeze", "snapshot(unfrozen)", "post"], .succeeded, .crashConsistent)
    }

    @Test func aFreezeThatDidNotHoldIsCrashConsistentWhenContinuing() {
        expect(
            walk(.ready, freezeHolds: false), steps: ["pre"] + frozenSnapshot + ["post"], .succeeded, .crashConsistent)
    }

    @Test func aFreezeThatDidNotHoldFailsWithoutContinueUnlessSingleDisk() {
        expect(
            walk(.ready, continueOnFailure: false, freezeHolds: false), steps: ["pre"] + frozenSnapshot + ["post"],
            .failed, .none, usable: false)
        expect(
            walk(.ready, continueOnFailure: false, singleDisk: true, freezeHolds: false),
            steps: ["pre"] + frozenSnapshot + ["post"], .succeeded, .crashConsistent)
    }

    @Test func aFailedSnapshotFailsTheBackupAndStillThawsAndRunsThePostScript() {
        for continueOnFailure in [true, false] {
            expect(
                walk(.ready, continueOnFailure: continueOnFailure, snapshotWorks: false),
                steps: ["pre"] + frozenSnapshot + ["post"], .failed, .none)
        }
        expect(walk(.notConfigured, snapshotWorks: false), steps: frozenSnapshot, .failed, .none)
    }
}
