import QuiesceSystem

/// The framework's permission rules (framework.md section 2), as pure checks over `FileFacts`.
///
/// Every broken rule is reported, not only the first, each with the command that fixes it.
public enum PermissionRule: Sendable {
    /// Owner-only read/write or read-only: 0600 or 0400.
    case pluginConfig
    /// Owner-only and runnable through its shebang: 0700 or 0500.
    case script
    /// No group or other write.
    case pluginHost

    /// The rules `facts` break; empty when the file may be used. `owner` is the uid required
    /// (0 except in test harnesses); directories may belong to root or to `owner`.
    public func violations(of facts: FileFacts, owner: UInt32) -> [String] {
        var found: [String] = []
        let target = facts.target
        let shown = target.path == facts.path ? facts.path : "\(facts.path) (resolves to \(target.path))"
        guard target.isRegularFile else {
            return ["\(shown) is not a regular file; point the config at the file itself"]
        }
        if target.ownerUid != owner {
            found.append(
                "\(shown) is owned by uid \(target.ownerUid), must be owned by uid \(owner): chown \(owner) "
                    + "\(target.path)"
            )
        }
        let mode = target.permissions
        switch self {
        case .pluginConfig where mode != 0o600 && mode != 0o400:
            found.append("\(shown) has mode \(Self.octal(mode)), must be 0600 or 0400: chmod 0600 \(target.path)")
        case .script where mode != 0o700 && mode != 0o500:
            found.append("\(shown) has mode \(Self.octal(mode)), must be 0700 or 0500: chmod 0700 \(target.path)")
        case .pluginHost where mode & 0o022 != 0:
            found.append(
                "\(shown) has mode \(Self.octal(mode)), writable by group or others: chmod go-w \(target.path)")
        default:
            break
        }
        return found + Self.directoryViolations(facts.directories, guarding: target.path, owner: owner)
    }

    /// The rules a directory that holds what runs as root breaks: `facts` is the directory
    /// itself, which like its parents must be owned by root or `owner` and not writable by group
    /// or others (unless sticky).
    public static func directoryViolations(of facts: FileFacts, owner: UInt32) -> [String] {
        guard facts.target.isDirectory else { return ["\(facts.path) is not a directory"] }
        return directoryViolations(facts.directories + [facts.target], guarding: facts.target.path, owner: owner)
    }

    private static func directoryViolations(
        _ directories: [FileFacts.Node], guarding path: String, owner: UInt32
    ) -> [String] {
        var found: [String] = []
        for directory in directories {
            if directory.ownerUid != 0 && directory.ownerUid != owner {
                found.append(
                    "directory \(directory.path) is owned by uid \(directory.ownerUid), so that user can swap "
                        + "\(path): chown root \(directory.path)")
            }
            let sticky = directory.permissions & 0o1000 != 0
            if directory.permissions & 0o022 != 0 && !sticky {
                found.append(
                    "directory \(directory.path) has mode \(Self.octal(directory.permissions)), writable by group or "
                        + "others without the sticky bit, so they can swap \(path): chmod go-w \(directory.path)"
                )
            }
        }
        return found
    }

    /// `0o640` as `"0640"`.
    public static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
