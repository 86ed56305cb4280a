/// The small fixed environment every child process of the cycle gets; nothing of the agent's
/// own environment leaks into scripts.
enum ScriptEnvironment {
    static let base: [String: String] = [
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C",
    ]
}
