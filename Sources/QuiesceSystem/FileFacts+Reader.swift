import Glibc
import SystemPackage

extension FileFacts {
    /// Reads the facts of several files, looking at each path component once: one `lstat` per
    /// component, `readlink` only where it is a symlink, and the directories the files share
    /// (`/`, `/etc`, `/etc/azure`) looked at once for all of them. The resolution is `realpath`'s
    /// (physical: `..` climbs the resolved path), so the file judged is the file that would run.
    ///
    /// Meant for one check: what it has seen it remembers, so a reader kept for longer would
    /// judge a changed file by its old facts.
    public final class Reader {
        /// `lstat` of each absolute, symlink-free path seen, with its symlink's target if it is one.
        private var seen: [String: (node: Node, link: String?)] = [:]

        public init() {}

        public func facts(of path: String) throws(SystemError) -> FileFacts {
            let failure = { (errno: Errno) in SystemError(call: "realpath", subject: path, errno: errno) }
            var pending = Self.components(of: path)
            if !path.hasPrefix("/") {
                guard let cwd = getcwd(nil, 0) else { throw failure(Errno(rawValue: Glibc.errno)) }
                defer { free(cwd) }
                pending = Self.components(of: String(cString: cwd)) + pending
            }
            // Consumed from the end: `pending` holds the path's components reversed.
            pending.reverse()
            var resolved: [Node] = []
            var followed = 0
            while let component = pending.popLast() {
                if component == "." { continue }
                if component == ".." {
                    _ = resolved.popLast()
                    continue
                }
                let candidate = (resolved.last?.path ?? "") + "/" + component
                let (node, link) = try look(candidate, failure: failure)
                if let link {
                    followed += 1
                    // realpath's bound, the kernel's MAXSYMLINKS.
                    guard followed <= 40 else { throw failure(.tooManySymbolicLinkLevels) }
                    if link.hasPrefix("/") { resolved = [] }
                    pending += Self.components(of: link).reversed()
                    continue
                }
                if !node.isDirectory && !pending.isEmpty { throw failure(.notDirectory) }
                resolved.append(node)
            }
            let root = try look("/", failure: failure).node
            if path.hasSuffix("/"), let last = resolved.last, !last.isDirectory { throw failure(.notDirectory) }
            guard let target = resolved.popLast() else {
                return FileFacts(path: path, target: root, directories: [root])
            }
            return FileFacts(path: path, target: target, directories: [root] + resolved)
        }

        private func look(
            _ path: String, failure: (Errno) -> SystemError
        ) throws(SystemError) -> (node: Node, link: String?) {
            if let known = seen[path] { return known }
            let info: Glibc.stat
            do {
                info = try Syscalls.linkStatus(path)
            } catch {
                throw failure(error.errno)
            }
            let type = info.st_mode & S_IFMT
            let node = Node(
                path: path, ownerUid: info.st_uid, permissions: info.st_mode & 0o7777,
                isRegularFile: type == S_IFREG, isDirectory: type == S_IFDIR)
            let link = type == S_IFLNK ? try Syscalls.readLink(path) : nil
            seen[path] = (node, link)
            return (node, link)
        }

        /// Split on the byte, as the kernel splits: no grapheme breaking, and a `/` followed by a
        /// combining mark still separates.
        private static func components(of path: String) -> [String] {
            path.utf8.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
        }
    }
}
