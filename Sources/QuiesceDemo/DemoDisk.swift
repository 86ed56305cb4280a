import QuiesceSystem

/// One demo VM's "disk": as root, an ext4 image loop-mounted under the demo's directory, which
/// the agent really freezes; otherwise a plain directory (FIFREEZE and loop mounts need root).
public final class DemoDisk: Sendable {
    public let mountPoint: String
    /// The image file, when there is one.
    public let imagePath: String?

    public init(directory: String, name: String, loopMounted: Bool, sizeMiB: Int = 32) throws {
        mountPoint = "\(directory)/\(name)"
        try DemoShell.makeDirectory(mountPoint)
        guard loopMounted else {
            imagePath = nil
            return
        }
        let image = "\(directory)/\(name).img"
        imagePath = image
        try DemoShell.run(["truncate", "-s", "\(sizeMiB)M", image])
        // Inode tables and journal written now, not by a kernel thread during the demo.
        try DemoShell.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", image])
        try DemoShell.run(["mount", "-o", "loop", image, mountPoint])
    }

    /// Thaws (in case), unmounts (which frees the loop device) and detaches anything left.
    public func remove() {
        guard let imagePath else { return }
        _ = try? DemoShell.run(["fsfreeze", "-u", mountPoint])
        for _ in 0..<20 where (try? DemoShell.run(["mountpoint", "-q", mountPoint])) != nil {
            if (try? DemoShell.run(["umount", mountPoint])) == nil { CurrentProcess.sleep(for: .milliseconds(100)) }
        }
        _ = try? DemoShell.run(["umount", "-l", mountPoint])
        if let devices = try? DemoShell.run(["losetup", "-j", imagePath]) {
            for line in devices.split(separator: "\n") {
                if let device = line.split(separator: ":").first {
                    _ = try? DemoShell.run(["losetup", "-d", String(device)])
                }
            }
        }
    }
}
