extension StringProtocol {
    /// The text without leading and trailing whitespace (spaces, tabs, newlines).
    public func trimmingWhitespace() -> String {
        let characters = self.drop { $0.isWhitespace }
        return String(characters.reversed().drop { $0.isWhitespace }.reversed())
    }
}
