import QuiesceSystem

/// The small fixed environment every child process of the cycle gets; nothing of the agent's
/// own environment leaks into scripts. HOME, USER and LOGNAME are those of the account the agent
/// runs as (root, which owns the scripts), so that tools reading their own files from home
/// (`~/.my.cnf`, `~/.pgpass`) behave as in a login shell of that account.
enum ScriptEnvironment {
    static let base: [String: String] = {
        var environment = [
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C",
        ]
        if let account = CurrentProcess.account {
            environment["HOME"] = account.home
            environment["USER"] = account.name
            environment["LOGNAME"] = account.name
        }
        return environment
    }()
}
