import Foundation
import QuiesceSystem
import Testing

@Suite("Directories")
struct DirectoryTests {
    @Test func aTemporaryDirectoryIsNewAndPrivate() throws {
        let first = try Directory.makeTemporary(prefix: "quiesce-directory-test")
        let second = try Directory.makeTemporary(prefix: "quiesce-directory-test")
        defer { for path in [first, second] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(first != second && first.hasPrefix("/tmp/quiesce-directory-test."))
        let mode = try FileManager.default.attributesOfItem(atPath: first)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func parentsAreMadeOnlyWhenAskedFor() throws {
        let root = try Directory.makeTemporary(prefix: "quiesce-directory-test")
        defer { try? FileManager.default.removeItem(atPath: root) }
        do {
            try Directory.make("\(root)/gone/child", mode: 0o755, parents: false)
            Issue.record("a missing parent was made")
        } catch {
            #expect(error.call == "mkdir" && error.subject == "\(root)/gone/child" && error.isNotFound)
        }
        try Directory.make("\(root)/a/b/c", mode: 0o700)
        try Directory.make("\(root)/a/b/c", mode: 0o700)  // an existing directory is fine
        var isDirectory: ObjCBool = false
        #expect(
            FileManager.default.fileExists(atPath: "\(root)/a/b/c", isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
