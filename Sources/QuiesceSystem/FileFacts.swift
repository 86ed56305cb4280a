import Glibc

/// What the permission rules need to know about one file: its own inode after resolving
/// symlinks, and every directory on the resolved path.
public struct FileFacts: Sendable, Equatable {
    /// The inode facts of one path component.
    public struct Node: Sendable, Equatable {
        public var path: String
        public var ownerUid: UInt32
        /// `st_mode & 0o7777`.
        public var permissions: UInt32
        public var isRegularFile: Bool
        public var isDirectory: Bool

        public init(path: String, ownerUid: UInt32, permissions: UInt32, isRegularFile: Bool, isDirectory: Bool) {
            self.path = path
            self.ownerUid = ownerUid
            self.permissions = permissions
            self.isRegularFile = isRegularFile
            self.isDirectory = isDirectory
        }
    }

    /// The path as configured.
    public var path: String
    /// The file itself, after resolving every symlink.
    public var target: Node
    /// Every directory from `/` down to the file's own directory, on the resolved path.
    public var directories: [Node]

    public init(path: String, target: Node, directories: [Node]) {
        self.path = path
        self.target = target
        self.directories = directories
    }

    /// Reads the facts from the file system; throws when the path does not resolve.
    public static func read(path: String) throws(SystemError) -> FileFacts {
        try Reader().facts(of: path)
    }

    /// `path` with every symlink resolved, for where a file lands rather than what guards it.
    public static func resolvedPath(of path: String) throws(SystemError) -> String {
        try Reader().facts(of: path).target.path
    }
}
