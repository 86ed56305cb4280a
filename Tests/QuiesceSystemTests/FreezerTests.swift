import QuiesceSystem
import QuiesceTestSupport
import SystemPackage
import Testing

/// Real FIFREEZE/FITHAW on loop-mounted images the tests make; nothing else is ever frozen.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct FreezerTests {
    @Test func freezeBlocksWritersUntilThaw() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let freezer = IoctlFreezer()
        try freezer.freeze(mount: disk.mountPoint)
        let writableWhileFrozen = try disk.acceptsWrites(within: 0.3)
        try freezer.thaw(mount: disk.mountPoint)
        #expect(!writableWhileFrozen)
        #expect(try disk.acceptsWrites(within: 5))
    }

    @Test func aSecondFreezeSaysBusyAndAThawOfAThawedMountSaysInvalid() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let freezer = IoctlFreezer()
        try freezer.freeze(mount: disk.mountPoint)
        #expect(throws: SystemError.self) { try freezer.freeze(mount: disk.mountPoint) }
        do {
            try freezer.freeze(mount: disk.mountPoint)
        } catch {
            #expect(error.errno == .resourceBusy)
            #expect(error.call == "ioctl(FIFREEZE)")
        }
        try freezer.thaw(mount: disk.mountPoint)
        do {
            try freezer.thaw(mount: disk.mountPoint)
            Issue.record("a second thaw must fail")
        } catch {
            #expect(error.errno == .invalidArgument)
        }
    }

    @Test func aFailureOnTheSecondOfThreeMountsThawsTheFirstAndLeavesTheForeignFreeze() async throws {
        var disks: [LoopImage] = []
        for index in 0..<3 { disks.append(try await LoopImage.make(name: "disk\(index)")) }
        defer { disks.forEach { $0.remove() } }
        // Someone else froze the second one first.
        try Shell.run(["fsfreeze", "-f", disks[1].mountPoint])
        let result = FrozenMounts.freeze(disks.map(\.mountPoint), with: IoctlFreezer())
        guard case .failure(let failure) = result else {
            Issue.record("the group freeze must fail")
            if case .success(let frozen) = result { _ = frozen.thawAll() }
            return
        }
        #expect(failure.mount == disks[1].mountPoint)
        #expect(failure.alreadyFrozen)
        #expect(failure.rolledBack == [disks[0].mountPoint])
        #expect(failure.rollbackErrors.isEmpty)
        #expect(try disks[0].acceptsWrites(within: 5), "the first mount is thawed at once")
        #expect(try !disks[1].acceptsWrites(within: 0.3), "the foreign freeze is left as it was")
        #expect(try disks[2].acceptsWrites(within: 5), "the third was never frozen")
        try Shell.run(["fsfreeze", "-u", disks[1].mountPoint])
    }

    @Test func thawAllReportsAMountSomebodyElseThawed() async throws {
        var disks: [LoopImage] = []
        for index in 0..<2 { disks.append(try await LoopImage.make(name: "disk\(index)")) }
        defer { disks.forEach { $0.remove() } }
        guard case .success(let frozen) = FrozenMounts.freeze(disks.map(\.mountPoint), with: IoctlFreezer()) else {
            Issue.record("freeze failed")
            return
        }
        try Shell.run(["fsfreeze", "-u", disks[0].mountPoint])
        let thaw = frozen.thawAll()
        #expect(thaw.alreadyThawed == [disks[0].mountPoint])
        #expect(thaw.errors.isEmpty)
        #expect(!thaw.heldThroughout)
        #expect(try disks[1].acceptsWrites(within: 5))
    }
}
