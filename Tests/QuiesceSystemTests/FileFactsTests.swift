import Foundation
import Glibc
import QuiesceSystem
import QuiesceTestSupport
import SystemPackage
import Testing

/// `FileFacts` resolves paths itself, one `lstat` per component; it must land where glibc's
/// `realpath` lands, fail where it fails, and list every directory on the way.
@Suite("File facts")
struct FileFactsTests {
    /// A tree with every kind of turn a path can take.
    private func tree() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try directory.write("etc/azure/config.json", "{}")
        try directory.write("scripts/pre.sh", "#!/bin/sh\n", mode: 0o700)
        let links = [
            ("absolute.sh", directory.url("scripts/pre.sh")),
            ("relative.sh", "scripts/pre.sh"),
            ("etc/up.sh", "../scripts/pre.sh"),
            ("chain.sh", "relative.sh"),
            ("dirlink", "etc/azure"),
            ("etc/azure/back", ".."),
            ("dangling.sh", "nowhere.sh"),
            ("loop-a", "loop-b"),
            ("loop-b", "loop-a"),
            ("through-file", "scripts/pre.sh/x"),
        ]
        for (name, target) in links {
            guard symlink(target, directory.url(name)) == 0 else { throw POSIXError(.EIO) }
        }
        return directory
    }

    /// Where glibc's realpath lands, or its errno, as text.
    private func glibcRealpath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return "errno \(errno)" }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Where `FileFacts` lands, or its errno, as text.
    private func resolved(_ path: String, by reader: FileFacts.Reader = FileFacts.Reader()) -> String {
        do {
            return try reader.facts(of: path).target.path
        } catch {
            return "errno \(error.errno.rawValue)"
        }
    }

    @Test func resolvesAndFailsAsRealpathDoes() throws {
        let directory = try tree()
        defer { directory.remove() }
        let paths =
            [
                "scripts/pre.sh", "absolute.sh", "relative.sh", "etc/up.sh", "chain.sh", "dirlink/config.json",
                "dirlink/back/scripts/pre.sh", "dirlink/../scripts/pre.sh", "./scripts/./pre.sh", "scripts//pre.sh",
                "etc/azure/", "dangling.sh", "loop-a", "through-file", "scripts/pre.sh/", "scripts/pre.sh/..",
                "missing/pre.sh", "etc/azure/missing.json", "",
            ].map(directory.url) + ["/", "/.."]
        let shared = FileFacts.Reader()
        for path in paths {
            let ours = resolved(path, by: shared)
            #expect(ours == glibcRealpath(path), "\(path)")
            #expect(resolved(path) == ours, "\(path): a reader that has seen other paths answers as a fresh one")
        }
    }

    @Test func aRelativePathResolvesFromTheWorkingDirectory() throws {
        let directory = try tree()
        defer { directory.remove() }
        // Up to `/` from wherever the tests run, then down: changing the directory would change
        // it for every test running beside this one.
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + directory.url("etc/up.sh").dropFirst()
        #expect(try FileFacts.resolvedPath(of: relative) == directory.url("scripts/pre.sh"))
        #expect(resolved(relative) == glibcRealpath(relative))
    }

    @Test func listsEveryDirectoryOnTheResolvedPath() throws {
        let directory = try tree()
        defer { directory.remove() }
        let facts = try FileFacts.read(path: directory.url("dirlink/back/../scripts/pre.sh"))
        #expect(facts.path == directory.url("dirlink/back/../scripts/pre.sh"))
        #expect(facts.target.path == directory.url("scripts/pre.sh"))
        #expect(facts.target.isRegularFile && facts.target.permissions == 0o700)
        var expected = ["/"]
        for component in directory.url("scripts").split(separator: "/") {
            expected.append((expected.count == 1 ? "" : expected.last!) + "/" + component)
        }
        #expect(facts.directories.map(\.path) == expected)
        #expect(facts.directories.allSatisfy { $0.isDirectory })
        var info = stat()
        #expect(lstat(directory.path, &info) == 0)
        let own = facts.directories.first { $0.path == directory.path }
        #expect(own?.ownerUid == info.st_uid && own?.permissions == info.st_mode & 0o7777)
    }

    @Test func failuresNameTheConfiguredPath() throws {
        let directory = try tree()
        defer { directory.remove() }
        do {
            _ = try FileFacts.read(path: directory.url("missing/pre.sh"))
            Issue.record("a missing path resolved")
        } catch {
            #expect(error.isNotFound && error.subject == directory.url("missing/pre.sh"))
        }
    }
}
