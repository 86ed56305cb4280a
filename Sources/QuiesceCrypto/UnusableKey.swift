/// A key QuiesceCrypto cannot take: the wrong length, not PEM, or not the curve asked for.
public struct UnusableKey: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
