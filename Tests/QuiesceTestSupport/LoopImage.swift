import Foundation

/// A small ext4 image, loop-mounted under a temp dir: the only kind of file system tests freeze.
///
/// `remove()` thaws (in case a test left it frozen), unmounts, which detaches the loop device,
/// and deletes everything; call it in a `defer` right after creating the image.
public final class LoopImage: Sendable {
    public let directory: TemporaryDirectory
    public let imagePath: String
    public let mountPoint: String

    /// The image made on a thread of its own: mkfs and mount block for seconds on a busy
    /// machine, and a test that blocks Swift's cooperative threads (two, on two cores) stalls
    /// every other test in the process, some past their freeze deadlines.
    public static func make(sizeMiB: Int = 16, name: String = "disk", fileSystem: String = "ext4") async throws
        -> LoopImage
    {
        try await onBlockingThread { try LoopImage(sizeMiB: sizeMiB, name: name, fileSystem: fileSystem) }
    }

    /// `fileSystem` is `ext4` or `btrfs` (which needs at least 128 MiB). In an async test, use `make`.
    public init(sizeMiB: Int = 16, name: String = "disk", fileSystem: String = "ext4") throws {
        directory = try TemporaryDirectory(prefix: "quiesce-loop")
        imagePath = directory.url("\(name).img")
        mountPoint = directory.url(name)
        do {
            try Shell.run(["truncate", "-s", "\(sizeMiB)M", imagePath])
            // Inode tables and journal initialised now, not written in the background later.
            try Shell.run(
                fileSystem == "btrfs"
                    ? ["mkfs.btrfs", "-q", "-f", imagePath]
                    : ["mkfs.\(fileSystem)", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", imagePath])
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
            try Shell.run(["mount", "-o", "loop", imagePath, mountPoint])
        } catch {
            directory.remove()
            throw error
        }
    }

    /// True while the file system is mounted at `mountPoint`.
    public var isMounted: Bool { (try? Shell.run(["mountpoint", "-q", mountPoint])) != nil }

    /// Whether a write from another process gets through within `timeout`; a frozen file system
    /// makes the writer block, so this never writes from the test process itself. A writer
    /// that blocked is left to finish after the thaw.
    public func acceptsWrites(within timeout: Double = 1) throws -> Bool {
        let marker = "\(mountPoint)/.probe-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "echo probe > '\(marker)'"]
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return !process.isRunning && process.terminationStatus == 0
    }

    public func remove() {
        _ = try? Shell.run(["fsfreeze", "-u", mountPoint])
        for _ in 0..<20 where isMounted {
            if (try? Shell.run(["umount", mountPoint])) == nil { usleep(100_000) }
        }
        if isMounted {
            // Something still holds it open: detach it from the tree now; the kernel finishes the
            // unmount, and frees the loop device, when the last holder lets go.
            print("warning: \(mountPoint) is busy; unmounting lazily")
            _ = try? Shell.run(["umount", "-l", mountPoint])
        }
        // Detach any loop device still bound to the image (umount normally does this).
        if let devices = try? Shell.run(["losetup", "-j", imagePath]) {
            for line in devices.split(separator: "\n") {
                if let device = line.split(separator: ":").first {
                    _ = try? Shell.run(["losetup", "-d", String(device)])
                }
            }
        }
        directory.remove()
    }
}

extension LoopImage {
    /// Unmounts and mounts the image again, so what is read next comes from the disk, not from
    /// the page cache.
    public func remount() throws {
        try Shell.run(["umount", mountPoint])
        try Shell.run(["mount", "-o", "loop", imagePath, mountPoint])
    }
}
