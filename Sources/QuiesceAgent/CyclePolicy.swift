/// The three switches the decision table turns on.
public struct CyclePolicy: Sendable, Equatable {
    /// `continueBackupOnFailure`: take a weaker snapshot rather than none.
    public var continueOnFailure: Bool
    /// `fsFreezeEnabled`.
    public var freezeEnabled: Bool
    /// The snapshot covers one disk, so it is atomic without a freeze.
    public var singleDisk: Bool

    public init(continueOnFailure: Bool = true, freezeEnabled: Bool = true, singleDisk: Bool = false) {
        self.continueOnFailure = continueOnFailure
        self.freezeEnabled = freezeEnabled
        self.singleDisk = singleDisk
    }
}
