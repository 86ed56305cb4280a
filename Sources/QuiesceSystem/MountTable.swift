/// The mounts of this process's mount namespace, as `/proc/self/mountinfo` lists them.
public struct MountTable: Sendable, Equatable {
    /// One line of mountinfo (see proc(5)).
    public struct Entry: Sendable, Equatable {
        /// The `major:minor` of the file system's device: one value per superblock, so bind
        /// mounts of the same file system share it.
        public var device: String
        public var mountPoint: String
        /// Per-mount options, e.g. `rw,relatime`.
        public var options: [String]
        public var fileSystemType: String
        /// What is mounted, e.g. `/dev/vda1`.
        public var source: String

        public init(device: String, mountPoint: String, options: [String], fileSystemType: String, source: String) {
            self.device = device
            self.mountPoint = mountPoint
            self.options = options
            self.fileSystemType = fileSystemType
            self.source = source
        }

        public var isReadOnly: Bool { options.contains("ro") }
    }

    public var entries: [Entry]

    /// Reads the running process's table.
    public static func current() throws(SystemError) -> MountTable {
        parse(String(decoding: try FileReader.read("/proc/self/mountinfo"), as: UTF8.self))
    }

    /// Parses mountinfo text; lines that do not have its shape are skipped.
    public static func parse(_ text: String) -> MountTable {
        var entries: [Entry] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            // 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
            guard fields.count >= 10, let separator = fields[6...].firstIndex(of: "-"),
                separator + 2 < fields.count
            else { continue }
            entries.append(
                Entry(
                    device: fields[2], mountPoint: unescape(fields[4]),
                    options: fields[5].split(separator: ",").map(String.init),
                    fileSystemType: fields[separator + 1], source: unescape(fields[separator + 2])))
        }
        return MountTable(entries: entries)
    }

    /// mountinfo writes space, tab, newline and backslash in paths as `\040`-style octal escapes.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var input = Array(field.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "\\"), input.count >= 3,
                let value = UInt8(String(decoding: input.prefix(3), as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                input = input.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
