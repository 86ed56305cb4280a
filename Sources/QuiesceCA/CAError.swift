/// Why a CA operation did nothing: what is wrong, where, and how to fix it.
public struct CAError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) { self.description = description }
}
