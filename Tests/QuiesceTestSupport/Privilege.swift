import Foundation
import Glibc

/// Who the tests run as, for tests that need root.
///
/// Root-only tests are enabled when running as root, and also in CI whoever runs it: a root test
/// that skips in CI would hide a broken feature, so there it runs and fails instead.
public enum Privilege {
    public static var isRoot: Bool { geteuid() == 0 }
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    public static var rootTestsEnabled: Bool { isRoot || isCI }
    public static let rootOnlyReason =
        "needs root (chown to another uid, loop-mounted ext4 images, FIFREEZE); run as root, as CI does"
}
