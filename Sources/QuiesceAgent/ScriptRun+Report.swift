import QuiesceAPI
import QuiesceSystem

extension ScriptRun {
    /// The report entry for this run and, when it did not succeed, the error that says why.
    func report(path: String, phase: ScriptPhase, plugin: Precheck.Plugin) -> (ScriptReport, ReportedError?) {
        let result: ScriptResult
        var problem: (ErrorCode, String)?
        let tries = attempts == 1 ? "1 try" : "\(attempts) tries"
        switch outcome {
        case .succeeded:
            result = .succeeded
        case .failed:
            result = .failed
            problem = (
                phase.executionFailed,
                "\(path) \(ending) after \(tries) (\(phase.retriesKey) \(plugin.config.script(phase).retries))"
                    + lastWords
            )
        case .timedOut:
            result = .timedOut
            problem = (
                phase.timeout,
                "\(path) was still running when its \(plugin.budgetSeconds) s budget ran out (try \(attempts)); its "
                    + "process group was killed. Raise timeoutInSeconds in \(plugin.configPath) or make the script "
                    + "finish sooner" + lastWords
            )
        case .couldNotStart(let reason):
            result = .failed
            problem = (
                phase.executionFailed,
                "\(path) could not be started (\(reason)); check its #! line names an installed interpreter"
            )
        }
        let report = ScriptReport(
            result: result, path: path, attempts: attempts, exitCode: exitCode, signal: signal,
            durationMs: duration / .milliseconds(1), stdoutTail: stdout.text, stderrTail: stderr.text)
        return (report, problem.map { ReportedError(code: $0.0, phase: phase.cyclePhase, message: $0.1) })
    }

    /// "; it said: ..." with the script's own words, or nothing when it printed nothing.
    private var lastWords: String { ownWords.map { "; it said: \($0)" } ?? "" }
}
