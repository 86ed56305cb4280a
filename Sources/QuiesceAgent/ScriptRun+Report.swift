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

    /// The script's own words for what went wrong, to put in the error: the last (at most two)
    /// lines of its error output, else of its output, that name a failure; else its last line.
    /// Tools often end with a hint (psql: "Is the server running locally...?") after the line that
    /// says what happened.
    private var lastWords: String {
        for tail in [stderr.text, stdout.text] {
            let lines = tail.split(whereSeparator: \.isNewline).map(Self.printable).filter { !$0.isEmpty }
            guard let last = lines.last else { continue }
            let failures = lines.filter(Self.namesAFailure).suffix(2)
            let quoted = failures.isEmpty ? [last] : Array(failures)
            return "; it said: " + quoted.map { String($0.prefix(300)) }.joined(separator: " / ")
        }
        return ""
    }

    private static let failureWords = [
        "error", "fatal", "fail", "denied", "refused", "cannot", "can't", "could not", "unable", "not found",
        "no such", "timed out", "timeout", "invalid", "abort", "panic",
    ]

    private static func namesAFailure(_ line: String) -> Bool {
        let lowered = line.lowercased()
        return failureWords.contains { lowered.contains($0) }
    }

    /// A line with its control characters (a hint's leading tab) made spaces and its ends trimmed.
    private static func printable(_ line: Substring) -> String {
        String(
            String.UnicodeScalarView(line.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 })
        )
        .trimmingWhitespace()
    }
}
