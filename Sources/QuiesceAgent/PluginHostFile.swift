import QuiesceAPI

/// The optional `VMSnapshotPluginHost.conf`: several plugins, each with its own config, and a
/// cap on every plugin's script time.
///
///     [pre_post]
///     timeoutInSeconds = 120
///     numberOfPlugins = 1
///     pluginName0 = mysql
///     pluginPath0 = /etc/azure/mysql
///     pluginConfigPath0 = /etc/azure/mysql/VMSnapshotScriptPluginConfig.json
public struct PluginHostFile: Sendable, Equatable {
    public struct Plugin: Sendable, Equatable {
        public var name: String
        public var path: String?
        public var configPath: String
    }

    /// The most plugins a host file may name: their pre-scripts all run at once.
    public static let maximumPlugins = 64

    /// Caps every plugin's `timeoutInSeconds`, when present.
    public var timeoutInSeconds: Int?
    public var plugins: [Plugin]

    /// Parses the INI text the way the original's ConfigParser reads it: `key = value` or
    /// `key: value`, `#` and `;` comments, keys case-insensitive. Every problem is listed.
    public static func parse(_ text: String, path: String) throws(AgentError) -> PluginHostFile {
        var sections: [String: [String: String]] = [:]
        var current: String?
        var problems: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingWhitespace()
                sections[current!, default: [:]] = sections[current!, default: [:]]
                continue
            }
            guard let separator = line.firstIndex(where: { $0 == "=" || $0 == ":" }) else {
                problems.append("line \(index + 1) is neither `[section]` nor `key = value`: \"\(line)\"")
                continue
            }
            guard let section = current else {
                problems.append("line \(index + 1) comes before any `[pre_post]` section header")
                continue
            }
            let key = line[..<separator].trimmingWhitespace().lowercased()
            sections[section]![key] = line[line.index(after: separator)...].trimmingWhitespace()
        }
        guard let values = sections["pre_post"] else {
            problems.append("there is no `[pre_post]` section")
            throw error(path, problems)
        }
        var host = PluginHostFile(timeoutInSeconds: nil, plugins: [])
        if let timeout = values["timeoutinseconds"] {
            if let seconds = Int(timeout), seconds >= 1 {
                host.timeoutInSeconds = seconds
            } else {
                problems.append("`timeoutInSeconds` must be an integer ≥ 1, found \"\(timeout)\"")
            }
        }
        guard let countText = values["numberofplugins"], let count = Int(countText), count >= 1 else {
            problems.append(
                "`numberOfPlugins` must be an integer ≥ 1, found "
                    + "\(values["numberofplugins"].map { "\"\($0)\"" } ?? "nothing")"
            )
            throw error(path, problems)
        }
        // Looked up one by one below: a count in the billions would hang the agent on a typo.
        guard count <= maximumPlugins else {
            problems.append(
                "`numberOfPlugins` is \(count), more than the \(maximumPlugins) plugins one VM can have; it counts "
                    + "the pluginConfigPathN entries, numbered from 0")
            throw error(path, problems)
        }
        for number in 0..<count {
            guard let configPath = values["pluginconfigpath\(number)"], configPath.hasPrefix("/") else {
                problems.append("`pluginConfigPath\(number)` must be an absolute path (numberOfPlugins is \(count))")
                continue
            }
            host.plugins.append(
                Plugin(
                    name: values["pluginname\(number)"] ?? "plugin\(number)", path: values["pluginpath\(number)"],
                    configPath: configPath))
        }
        guard problems.isEmpty else { throw error(path, problems) }
        return host
    }

    private static func error(_ path: String, _ problems: [String]) -> AgentError {
        AgentError(code: .incorrectPluginhostFile, message: "\(path): " + problems.joined(separator: "; "))
    }
}
