import QuiesceAPI
import QuiesceSystem
import QuiesceTestSupport
import Testing

@testable import QuiesceAgent

/// Mount discovery over mountinfo text; nothing here freezes anything.
@Suite("Freeze candidates")
struct FreezeCandidatesTests {
    /// A VM's mountinfo: the root and data disks, a bind mount, an overmount, a loop image, a
    /// read-only disk, network and pseudo file systems, and a path with a space.
    static let mountinfo = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        27 1 254:1 / / rw,relatime - ext4 /dev/vda1 rw
        28 27 254:16 / /var/lib/mysql rw,noatime - xfs /dev/vdb rw
        29 27 254:16 /backups /srv/backups rw,noatime - xfs /dev/vdb rw
        30 27 0:26 / /dev/shm rw - tmpfs tmpfs rw
        31 27 7:0 / /mnt/image rw - ext4 /dev/loop0 rw
        32 27 254:32 / /mnt/archive ro,relatime - ext4 /dev/vdc ro
        33 27 0:40 / /mnt/nfs rw - nfs4 server:/export rw
        34 27 254:48 / /data\\040disk rw - btrfs /dev/vdd rw
        35 27 254:64 / /scratch rw - ext3 /dev/vde rw
        36 27 254:80 / /scratch rw - ext4 /dev/vdf rw
        """

    @Test func mountinfoIsParsedWithEscapes() {
        let table = MountTable.parse(Self.mountinfo)
        #expect(table.entries.count == 11)
        #expect(
            table.entries[1]
                == .init(
                    device: "254:1", mountPoint: "/", options: ["rw", "relatime"], fileSystemType: "ext4",
                    source: "/dev/vda1"))
        #expect(table.entries[8].mountPoint == "/data disk")
        #expect(MountTable.parse("garbage\n\n1 2 3").entries.isEmpty)
    }

    @Test func blockDeviceFileSystemsAreChosenOnceWithRootLast() {
        let candidates = FreezeCandidates.select(
            from: MountTable.parse(Self.mountinfo), skip: [], includeLoopDevices: false)
        #expect(candidates.mounts == ["/var/lib/mysql", "/data disk", "/scratch", "/"])
        let reasons = Dictionary(candidates.excluded.map { ($0.mountPoint + " " + $0.source, $0.reason) }) { first, _ in
            first
        }
        #expect(reasons["/proc proc"]?.contains("proc is not a file system that is frozen") == true)
        #expect(reasons["/srv/backups /dev/vdb"] == "the same file system as /var/lib/mysql, which is frozen once")
        #expect(reasons["/mnt/image /dev/loop0"]?.contains("set freeze.includeLoopDevices") == true)
        #expect(reasons["/mnt/archive /dev/vdc"] == "mounted read-only: nothing to flush")
        #expect(reasons["/mnt/nfs server:/export"]?.contains("nfs4 is not") == true)
        #expect(reasons["/scratch /dev/vde"] == "hidden by a later mount on the same mount point")
    }

    @Test func skipsAndLoopDevicesFollowTheSettings() {
        let candidates = FreezeCandidates.select(
            from: MountTable.parse(Self.mountinfo), skip: ["/var/lib/mysql", "/"], includeLoopDevices: true)
        #expect(candidates.mounts == ["/mnt/image", "/data disk", "/scratch"])
        #expect(candidates.excluded.contains { $0.mountPoint == "/" && $0.reason == "listed in freeze.mountsToSkip" })
        // Skipping a mount point skips its file system, bind mounts included.
        #expect(
            candidates.excluded.contains {
                $0.mountPoint == "/srv/backups"
                    && $0.reason == "the same file system as /var/lib/mysql, which freeze.mountsToSkip lists"
            })
    }

    @Test(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
    func discoveryOfThisMachineSeesALoopImageOnlyWhenAskedTo() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        var settings = AgentSettings()
        #expect(try !settings.freezePlan().mounts.contains(disk.mountPoint))
        #expect(try settings.freezePlan().excluded.contains { $0.mountPoint == disk.mountPoint })
        settings.freeze.includeLoopDevices = true
        #expect(try settings.freezePlan().mounts.contains(disk.mountPoint))
        settings.freeze.mountsToSkip = [disk.mountPoint]
        #expect(try !settings.freezePlan().mounts.contains(disk.mountPoint))
    }
}
