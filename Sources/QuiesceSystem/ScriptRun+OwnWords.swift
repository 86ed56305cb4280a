extension ScriptRun {
    /// The script's own words for what went wrong, for an error message: the last (at most two)
    /// lines of its error output, else of its output, that name a failure; else its last line;
    /// nil when it printed nothing. Tools often end with a hint (psql: "Is the server running
    /// locally...?") after the line that says what happened.
    public var ownWords: String? {
        for tail in [stderr.text, stdout.text] {
            let lines = tail.split(whereSeparator: \.isNewline).map(Self.printable).filter { !$0.isEmpty }
            guard let last = lines.last else { continue }
            let failures = lines.filter(Self.namesAFailure).suffix(2)
            let quoted = failures.isEmpty ? [last] : Array(failures)
            return quoted.map { String($0.prefix(300)) }.joined(separator: " / ")
        }
        return nil
    }

    private static let failureWords = [
        "error", "fatal", "fail", "denied", "refused", "cannot", "can't", "could not", "unable", "not found",
        "no such", "timed out", "timeout", "invalid", "abort", "panic", "missing", "mismatch",
    ]

    private static func namesAFailure(_ line: String) -> Bool {
        let lowered = line.lowercased()
        return failureWords.contains { lowered.contains($0) }
    }

    /// A line with its control characters (a hint's leading tab) made spaces and its ends trimmed.
    private static func printable(_ line: Substring) -> String {
        let spaced = String(
            String.UnicodeScalarView(line.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
        return String(spaced.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
