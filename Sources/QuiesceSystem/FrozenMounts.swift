import SystemPackage

/// A set of mounts frozen together: all of them or none.
///
/// ```swift
/// switch FrozenMounts.freeze(["/data", "/"], with: IoctlFreezer()) {
/// case .success(let frozen): defer { _ = frozen.thawAll() } ...
/// case .failure(let failure): report(failure)
/// }
/// ```
public struct FrozenMounts: Sendable {
    /// Mounts in the order they were frozen.
    public let mounts: [String]
    public let freezer: any FileSystemFreezer

    /// Why a group freeze failed, after everything it had frozen was thawed again.
    public struct Failure: Error, Sendable {
        /// The mount whose FIFREEZE failed.
        public var mount: String
        public var cause: SystemError
        /// True when the mount was already frozen by someone else (EBUSY); we leave it frozen.
        public var alreadyFrozen: Bool { cause.errno == .resourceBusy }
        /// Mounts frozen before the failure and thawed again at once.
        public var rolledBack: [String]
        /// Thaws of the roll-back that failed themselves.
        public var rollbackErrors: [SystemError]
    }

    /// What thawing found.
    public struct Thaw: Sendable {
        /// Mounts that were no longer frozen when we came to thaw them (FITHAW said EINVAL):
        /// somebody else thawed them, so the freeze did not hold throughout.
        public var alreadyThawed: [String] = []
        public var errors: [SystemError] = []
        public var heldThroughout: Bool { alreadyThawed.isEmpty && errors.isEmpty }
    }

    /// Freezes `mounts` in order; on the first failure thaws what it froze, in reverse order.
    public static func freeze(_ mounts: [String], with freezer: any FileSystemFreezer) -> Result<FrozenMounts, Failure>
    {
        var frozen: [String] = []
        for mount in mounts {
            do {
                try freezer.freeze(mount: mount)
                frozen.append(mount)
            } catch {
                let partial = FrozenMounts(mounts: frozen, freezer: freezer)
                return .failure(
                    Failure(mount: mount, cause: error, rolledBack: frozen, rollbackErrors: partial.thawAll().errors)
                )
            }
        }
        return .success(FrozenMounts(mounts: frozen, freezer: freezer))
    }

    /// Thaws every mount in reverse freeze order, trying all of them whatever fails.
    public func thawAll() -> Thaw {
        var thaw = Thaw()
        for mount in mounts.reversed() {
            do {
                try freezer.thaw(mount: mount)
            } catch  where error.errno == .invalidArgument {
                thaw.alreadyThawed.append(mount)
            } catch {
                thaw.errors.append(error)
            }
        }
        return thaw
    }
}
