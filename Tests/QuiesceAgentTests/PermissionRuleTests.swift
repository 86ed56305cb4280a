import Foundation
import QuiesceSystem
import QuiesceTestSupport
import Testing

@testable import QuiesceAgent

/// The permission rules, first over made-up facts (every rule, any user), then over real files
/// chowned and chmodded as root.
@Suite("Permission rules")
struct PermissionRuleTests {
    private func facts(
        owner: UInt32 = 0, mode: UInt32, regular: Bool = true,
        directories: [(String, UInt32, UInt32)] = [("/", 0, 0o755)]
    ) -> FileFacts {
        FileFacts(
            path: "/etc/azure/x",
            target: .init(
                path: "/etc/azure/x", ownerUid: owner, permissions: mode, isRegularFile: regular,
                isDirectory: !regular),
            directories: directories.map {
                .init(path: $0.0, ownerUid: $0.1, permissions: $0.2, isRegularFile: false, isDirectory: true)
            })
    }

    @Test(arguments: [0o600, 0o400] as [UInt32])
    func configModesThatPass(mode: UInt32) {
        #expect(PermissionRule.pluginConfig.violations(of: facts(mode: mode), owner: 0).isEmpty)
    }

    @Test(arguments: [0o644, 0o640, 0o700, 0o601, 0o4600, 0o1600, 0o200, 0o666] as [UInt32])
    func configModesThatFail(mode: UInt32) {
        let found = PermissionRule.pluginConfig.violations(of: facts(mode: mode), owner: 0)
        #expect(found.count == 1)
        #expect(found.first?.contains("must be 0600 or 0400: chmod 0600 /etc/azure/x") == true)
    }

    @Test(arguments: [0o700, 0o500] as [UInt32])
    func scriptModesThatPass(mode: UInt32) {
        #expect(PermissionRule.script.violations(of: facts(mode: mode), owner: 0).isEmpty)
    }

    @Test(arguments: [0o755, 0o750, 0o600, 0o400, 0o711, 0o4700, 0o300] as [UInt32])
    func scriptModesThatFail(mode: UInt32) {
        #expect(PermissionRule.script.violations(of: facts(mode: mode), owner: 0).count == 1)
    }

    @Test func hostFileMayBeReadableButNotWritableByOthers() {
        #expect(PermissionRule.pluginHost.violations(of: facts(mode: 0o644), owner: 0).isEmpty)
        #expect(PermissionRule.pluginHost.violations(of: facts(mode: 0o664), owner: 0).count == 1)
        #expect(PermissionRule.pluginHost.violations(of: facts(mode: 0o646), owner: 0).count == 1)
    }

    @Test func ownershipIsCheckedByUidAndEveryBrokenRuleIsReported() {
        let found = PermissionRule.script.violations(
            of: facts(owner: 1000, mode: 0o777, directories: [("/", 0, 0o755), ("/srv", 1000, 0o777)]), owner: 0)
        #expect(found.count == 4, "\(found)")
        #expect(found[0].contains("owned by uid 1000, must be owned by uid 0: chown 0"))
        #expect(found[1].contains("mode 0777"))
        #expect(found[2].contains("directory /srv is owned by uid 1000"))
        #expect(found[3].contains("directory /srv has mode 0777"))
    }

    @Test func aStickyWorldWritableDirectoryLikeTmpIsAllowed() {
        let found = PermissionRule.script.violations(
            of: facts(mode: 0o700, directories: [("/", 0, 0o755), ("/tmp", 0, 0o1777)]), owner: 0)
        #expect(found.isEmpty)
    }

    @Test func aNonRegularFileIsRejected() {
        let found = PermissionRule.script.violations(of: facts(mode: 0o700, regular: false), owner: 0)
        #expect(found == ["/etc/azure/x is not a regular file; point the config at the file itself"])
    }

    // MARK: real files

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func realFilesChownedAndChmoddedAsRoot() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("config.json", "{}", mode: 0o600)
        try directory.write("pre.sh", "#!/bin/sh\n", mode: 0o700)
        let rule = { (name: String, kind: PermissionRule) in
            kind.violations(of: try FileFacts.read(path: directory.url(name)), owner: 0)
        }
        #expect(try rule("config.json", .pluginConfig).isEmpty)
        #expect(try rule("pre.sh", .script).isEmpty)

        try directory.chown("config.json", uid: 1000)
        #expect(try rule("config.json", .pluginConfig).first?.contains("owned by uid 1000") == true)
        try directory.chown("config.json", uid: 0)
        try directory.chmod("config.json", 0o644)
        #expect(try rule("config.json", .pluginConfig).first?.contains("mode 0644") == true)

        try directory.chmod("pre.sh", 0o755)
        #expect(try rule("pre.sh", .script).first?.contains("mode 0755") == true)
        try directory.chmod("pre.sh", 0o700)

        // A symlink is judged by what it points to, and named in the message.
        #expect(symlink(directory.url("pre.sh"), directory.url("link.sh")) == 0)
        #expect(try rule("link.sh", .script).isEmpty)
        try directory.chmod("pre.sh", 0o777)
        #expect(try rule("link.sh", .script).first?.contains("link.sh (resolves to") == true)
        try directory.chmod("pre.sh", 0o700)

        // A directory on the path that someone else can write lets them swap the script.
        try directory.write("sub/post.sh", "#!/bin/sh\n", mode: 0o700)
        try directory.chmod("sub", 0o777)
        #expect(
            try rule("sub/post.sh", .script).contains {
                $0.contains("writable by group or others without the sticky bit")
            })
        try directory.chmod("sub", 0o755)
        try directory.chown("sub", uid: 1000)
        #expect(try rule("sub/post.sh", .script).contains { $0.contains("is owned by uid 1000") })
    }
}
