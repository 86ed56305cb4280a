import Glibc
import SystemPackage

/// The names in a directory, without `.` and `..`.
public enum DirectoryListing {
    public static func names(in path: String) throws(SystemError) -> [String] {
        guard let stream = opendir(path) else {
            throw SystemError(call: "opendir", subject: path, errno: Errno(rawValue: errno))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
