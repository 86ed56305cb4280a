import Glibc
import Subprocess
import SystemPackage

/// Runs scripts; `ScriptRunner` does it for real, the fleet simulator can stand in instantly.
public protocol ScriptRunning: Sendable {
    func run(_ invocation: ScriptInvocation) async -> ScriptRun
}

/// Runs a script as the framework demands: exec through its shebang in its own session and
/// process group, retried for real within one budget, the whole group killed on timeout, and
/// both output streams drained all the time with their tails kept.
public struct ScriptRunner: ScriptRunning {
    /// Told each script's process group, to end it if the agent dies; nil outside the agent.
    public let sentinel: GroupSentinel?

    public init(sentinel: GroupSentinel? = nil) { self.sentinel = sentinel }

    public func run(_ invocation: ScriptInvocation) async -> ScriptRun {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: invocation.budget)
        var run = ScriptRun(
            outcome: .failed, attempts: 0, exitCode: nil, signal: nil, duration: .zero,
            stdout: OutputTail(limit: invocation.tailLimit), stderr: OutputTail(limit: invocation.tailLimit)
        )
        while run.attempts <= invocation.retries, clock.now < deadline {
            run.attempts += 1
            let attempt = await runOnce(invocation, until: deadline)
            run.stdout = attempt.stdout
            run.stderr = attempt.stderr
            run.exitCode = attempt.exitCode
            run.signal = attempt.signal
            run.outcome = attempt.outcome
            if attempt.outcome != .failed { break }
        }
        run.duration = clock.now - start
        return run
    }

    private struct Attempt: Sendable {
        var outcome: ScriptRun.Outcome
        var exitCode: Int?
        var signal: Int?
        var stdout: OutputTail
        var stderr: OutputTail
    }

    private func runOnce(_ invocation: ScriptInvocation, until deadline: ContinuousClock.Instant) async -> Attempt {
        do {
            return try await spawnWhenNotBusy(invocation.executable, invocation.arguments, invocation, until: deadline)
        } catch let error as SubprocessError where Self.isNotExecutableFormat(error) {
            // No shebang and not a binary: run it with /bin/sh, as execvp does.
            do {
                return try await spawn(
                    "/bin/sh", [invocation.executable.string] + invocation.arguments, invocation, until: deadline)
            } catch {
                return Attempt(
                    outcome: .couldNotStart("\(error)"), stdout: OutputTail(limit: invocation.tailLimit),
                    stderr: OutputTail(limit: invocation.tailLimit))
            }
        } catch {
            return Attempt(
                outcome: .couldNotStart("\(error)"), stdout: OutputTail(limit: invocation.tailLimit),
                stderr: OutputTail(limit: invocation.tailLimit))
        }
    }

    private static func isNotExecutableFormat(_ error: SubprocessError) -> Bool {
        error.underlyingError == Errno.execFormatError
    }

    /// `spawn`, tried again a few times on ETXTBSY: a script someone is still writing, or one whose
    /// write descriptor a process forked elsewhere in this agent holds for an instant, cannot be
    /// executed until it is closed. Not a failure of the script, so not one of its retries.
    private func spawnWhenNotBusy(
        _ executable: FilePath, _ arguments: [String], _ invocation: ScriptInvocation,
        until deadline: ContinuousClock.Instant
    ) async throws -> Attempt {
        var pause = Duration.milliseconds(20)
        while true {
            do {
                return try await spawn(executable, arguments, invocation, until: deadline)
            } catch let error as SubprocessError
                where error.underlyingError == Errno.textFileBusy && ContinuousClock.now + pause < deadline
                && pause < .seconds(1)
            {
                try await Task.sleep(for: pause)
                pause *= 2
            }
        }
    }

    private func spawn(
        _ executable: FilePath, _ arguments: [String], _ invocation: ScriptInvocation,
        until deadline: ContinuousClock.Instant
    ) async throws -> Attempt {
        var options = PlatformOptions()
        options.createSession = true
        // If the cycle itself is cancelled, the script's whole group goes with it.
        options.teardownSequence = [
            .send(signal: .terminate, toProcessGroup: true, allowedDurationToNextStep: invocation.killGrace)
        ]
        var variables = invocation.environment
        if let sentinel { variables[GroupSentinel.markerVariable] = sentinel.marker }
        let environment = Environment.custom(
            Dictionary(uniqueKeysWithValues: variables.map { (Environment.Key(rawValue: $0.key)!, $0.value) }))
        let configuration = Configuration(
            executable: .path(executable), arguments: Arguments(arguments), environment: environment,
            workingDirectory: "/", platformOptions: options)
        let limit = invocation.tailLimit
        let grace = invocation.killGrace
        let sentinel = sentinel
        let outputs = (try ScriptOutputPipe(), try ScriptOutputPipe())
        async let stdout = outputs.0.drain(limit: limit)
        async let stderr = outputs.1.drain(limit: limit)
        let result: ExecutionResult<Task<Bool, Never>, FileDescriptorOutput, FileDescriptorOutput>
        do {
            result = try await Subprocess.run(
                configuration, input: .none,
                output: .fileDescriptor(FileDescriptor(rawValue: outputs.0.writeEnd), closeAfterSpawningProcess: false),
                error: .fileDescriptor(FileDescriptor(rawValue: outputs.1.writeEnd), closeAfterSpawningProcess: false)
            ) { execution in
                let group = execution.processIdentifier.value
                sentinel?.watch(group)
                return Task { await Self.killGroup(group, at: deadline, grace: grace) }
            }
        } catch {
            outputs.0.scriptHasExited()
            outputs.1.scriptHasExited()
            _ = await (stdout, stderr)
            throw error
        }
        // Returned once the script itself has exited, whatever it left holding its output.
        outputs.0.scriptHasExited()
        outputs.1.scriptHasExited()
        let killer = result.closureResult
        killer.cancel()
        let timedOut = await killer.value
        var attempt = Attempt(outcome: .failed, stdout: await stdout, stderr: await stderr)
        switch result.terminationStatus {
        case .exited(let code):
            attempt.exitCode = Int(code)
            if code == 0 { attempt.outcome = .succeeded }
        case .signaled(let signal):
            attempt.signal = Int(signal)
        }
        if timedOut { attempt.outcome = .timedOut }
        return attempt
    }

    /// At the deadline: SIGTERM to the process group, then SIGKILL once the grace period is over
    /// if any member is left. Returns whether the script was still running at the deadline;
    /// cancelled before it, it does nothing.
    private static func killGroup(_ group: pid_t, at deadline: ContinuousClock.Instant, grace: Duration) async -> Bool {
        // In slices: a cancelled sleep keeps its task's memory until the time it was set for
        // (swiftlang/swift#60441), and most scripts end long before their budget.
        do {
            while ContinuousClock.now < deadline {
                try await Task.sleep(
                    until: min(deadline, ContinuousClock.now.advanced(by: .seconds(1))), clock: .continuous)
            }
        } catch {
            return false
        }
        // Woken late (a busy machine) after the script ended in time: no timeout, and what it
        // left running in its group (a lock holder) stays.
        guard !Syscalls.hasEnded(group), Syscalls.signalGroup(group, SIGTERM) else { return false }
        let graceEnd = ContinuousClock.now.advanced(by: grace)
        // Poll rather than sleep the whole grace: most scripts die at SIGTERM. Cancellation is
        // ignored from here on, so the SIGKILL is never skipped.
        while ContinuousClock.now < graceEnd, Syscalls.signalGroup(group, 0) {
            await withUnsafeContinuation { continuation in
                Task.detached {
                    try? await Task.sleep(for: .milliseconds(20))
                    continuation.resume()
                }
            }
        }
        Syscalls.signalGroup(group, SIGKILL)
        return true
    }
}
