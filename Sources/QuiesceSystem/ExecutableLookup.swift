import Glibc

/// Finds a program by name in a fixed search path, the way a shell would, so the agent never
/// depends on the PATH it was started with.
public enum ExecutableLookup {
    public static let searchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The first executable file called `name` in `searchPath`, or nil.
    public static func find(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
