import QuiesceSystem

/// Colour for a terminal, plain text everywhere else: a pipe, a file, `NO_COLOR`, `TERM=dumb`.
public struct TerminalStyle: Sendable {
    public let colour: Bool

    public init(colour: Bool) { self.colour = colour }

    /// Colour when `descriptor` is a terminal and the environment does not ask for none.
    public static func detect(descriptor: Int32 = 1) -> TerminalStyle {
        let environment = CurrentProcess.environment
        return TerminalStyle(
            colour: CurrentProcess.isTerminal(descriptor) && environment["NO_COLOR"] == nil
                && environment["TERM"] != "dumb")
    }

    public static let plain = TerminalStyle(colour: false)

    public func good(_ text: String) -> String { paint(text, "32") }
    public func bad(_ text: String) -> String { paint(text, "1;31") }
    public func warning(_ text: String) -> String { paint(text, "33") }
    public func dim(_ text: String) -> String { paint(text, "2") }

    private func paint(_ text: String, _ code: String) -> String {
        colour && !text.isEmpty ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    /// The width of `text` on screen, not counting colour codes.
    static func visibleWidth(_ text: String) -> Int {
        var width = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                width += 1
            }
        }
        return width
    }
}
