import QuiesceAPI

extension AgentSettings {
    /// Parses settings strictly: an unknown key or a wrong type is an error naming it.
    public static func parse(_ bytes: some Collection<UInt8>, path: String) throws(AgentError) -> AgentSettings {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw AgentError(
                code: .invalidAgentSettings, message: "\(path) is not valid JSON (\(AgentError.describe(error)))")
        }
        var settings = AgentSettings()
        var object = StrictObject(json, what: "the agent settings")
        if let path = object.string("pluginConfigPath") { settings.pluginConfigPath = path }
        if let path = object.string("pluginHostPath") { settings.pluginHostPath = path }
        if let cap = object.integer("scriptTimeoutCapSeconds", minimum: 1) { settings.scriptTimeoutCapSeconds = cap }
        if let grace = object.integer("scriptKillGraceSeconds", minimum: 0) { settings.scriptKillGraceSeconds = grace }
        if let uid = object.integer("requiredOwnerUid", minimum: 0) {
            settings.requiredOwnerUid = UInt32(clamping: uid)
        }
        if let directory = object.string("stateDirectory") { settings.stateDirectory = directory }
        object.object("freeze") { freeze in
            if let mounts = freeze.stringArray("mounts") {
                settings.freeze.mounts = mounts
                for mount in mounts where !mount.hasPrefix("/") {
                    freeze.problem("`freeze.mounts` entries must be absolute paths, found \"\(mount)\"")
                }
            }
            if let skip = freeze.stringArray("mountsToSkip") { settings.freeze.mountsToSkip = skip }
            if let loops = freeze.bool("includeLoopDevices") { settings.freeze.includeLoopDevices = loops }
            if let timeout = freeze.integer("timeoutSeconds", minimum: 1) { settings.freeze.timeoutSeconds = timeout }
            if let flush = freeze.bool("flushBeforeFreeze") { settings.freeze.flushBeforeFreeze = flush }
            if let expedite = freeze.bool("expediteGracePeriods") { settings.freeze.expediteGracePeriods = expedite }
        }
        object.object("snapshot") { snapshot in
            if let name = snapshot.string("provider") {
                if let provider = Snapshot.Provider(rawValue: name) {
                    settings.snapshot.provider = provider
                } else {
                    let known = Snapshot.Provider.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
                    snapshot.problem("`snapshot.provider` must be one of \(known), found \"\(name)\"")
                }
            }
            if let command = snapshot.stringArray("command") { settings.snapshot.command = command }
            if let command = snapshot.stringArray("listCommand") { settings.snapshot.listCommand = command }
            if let command = snapshot.stringArray("deleteCommand") { settings.snapshot.deleteCommand = command }
            if let count = snapshot.integer("diskCount", minimum: 1) { settings.snapshot.diskCount = count }
            if let timeout = snapshot.integer("timeoutSeconds", minimum: 1) {
                settings.snapshot.timeoutSeconds = timeout
            }
            snapshot.object("btrfs") { btrfs in
                if let subvolumes = btrfs.stringArray("subvolumes") { settings.snapshot.btrfsSubvolumes = subvolumes }
                if let directory = btrfs.string("directory") { settings.snapshot.btrfsDirectory = directory }
            }
            snapshot.object("lvm") { lvm in
                if let volumes = lvm.stringArray("volumes") { settings.snapshot.lvmVolumes = volumes }
                if let size = lvm.string("size") { settings.snapshot.lvmSize = size }
            }
        }
        if let listen = object.string("listen") { settings.server.listen = listen }
        if let root = object.string("scriptRoot") { settings.server.scriptRoot = root }
        if let audit = object.string("auditLogPath") { settings.server.auditLogPath = audit }
        object.object("auth") { auth in
            if let file = auth.string("tokenFile") { settings.server.tokenFile = file }
            if let files = auth.stringArray("tokenFiles") { settings.server.tokenFiles = files }
        }
        object.object("enrollment") { enrollment in
            if let file = enrollment.string("joinTokenFile") { settings.server.joinTokenFile = file }
            if let directory = enrollment.string("directory") { settings.server.enrollmentDirectory = directory }
        }
        object.object("tls") { tls in
            settings.server.certificateFile = tls.string("certificateFile")
            settings.server.keyFile = tls.string("keyFile")
            settings.server.clientCAFile = tls.string("clientCAFile")
        }
        object.object("trust") { trust in
            for text in trust.stringArray("signingKeys") ?? [] {
                do {
                    settings.trust.signingKeys.append(try TrustedKey(text))
                } catch {
                    trust.problem("`trust.signingKeys`: \(error)")
                }
            }
        }
        object.object("limits") { limits in
            if let bytes = limits.integer("configBytes", minimum: 1) { settings.server.configBodyLimit = bytes }
            if let bytes = limits.integer("scriptBytes", minimum: 1) { settings.server.scriptBodyLimit = bytes }
            if let count = limits.integer("concurrentRequests", minimum: 1) {
                settings.server.maxConcurrentRequests = count
            }
            if let count = limits.integer("connections", minimum: 1) { settings.server.maxConnections = count }
            if let seconds = limits.integer("requestTimeoutSeconds", minimum: 1) {
                settings.server.requestTimeoutSeconds = seconds
            }
        }
        if (settings.server.certificateFile == nil) != (settings.server.keyFile == nil) {
            object.problem("`tls.certificateFile` and `tls.keyFile` go together: set both or neither")
        }
        if settings.server.clientCAFile != nil && settings.server.certificateFile == nil {
            object.problem("`tls.clientCAFile` needs `tls.certificateFile` and `tls.keyFile`: mutual TLS is TLS first")
        }
        for path in [
            settings.pluginConfigPath, settings.pluginHostPath, settings.stateDirectory, settings.server.tokenFile,
            settings.server.scriptRoot, settings.server.auditLogPath, settings.server.joinTokenFile,
            settings.server.enrollmentDirectory,
        ] + settings.server.tokenFiles
            + [settings.server.certificateFile, settings.server.keyFile, settings.server.clientCAFile].compactMap({ $0 }
            )
        where !path.hasPrefix("/") {
            object.problem("paths must be absolute, found \"\(path)\"")
        }
        let retentionCommands = [
            ("listCommand", settings.snapshot.listCommand), ("deleteCommand", settings.snapshot.deleteCommand),
        ]
        if settings.snapshot.provider != .command, retentionCommands.contains(where: { !$0.1.isEmpty }) {
            object.problem(
                "`snapshot.listCommand` and `snapshot.deleteCommand` belong to the \"command\" provider; remove them")
        } else if settings.snapshot.listCommand.isEmpty != settings.snapshot.deleteCommand.isEmpty {
            object.problem(
                "`snapshot.listCommand` and `snapshot.deleteCommand` go together: retention needs both, or neither")
        }
        if settings.snapshot.provider == .command {
            for (key, command) in [("command", settings.snapshot.command)] + retentionCommands {
                guard let executable = command.first, !executable.hasPrefix("/") else { continue }
                object.problem(
                    "`snapshot.\(key)[0]` must be an absolute path (no PATH lookup as root), found \"\(executable)\"")
            }
            if settings.snapshot.command.isEmpty {
                object.problem(
                    "`snapshot.command` must name the program to run when `snapshot.provider` is \"command\"")
            }
        }
        switch settings.snapshot.provider {
        case .btrfs:
            if settings.snapshot.btrfsSubvolumes.isEmpty {
                object.problem(
                    "`snapshot.btrfs.subvolumes` must list the subvolumes to snapshot when `snapshot.provider` is "
                        + "\"btrfs\""
                )
            }
            for subvolume in settings.snapshot.btrfsSubvolumes where !subvolume.hasPrefix("/") {
                object.problem("`snapshot.btrfs.subvolumes` entries must be absolute paths, found \"\(subvolume)\"")
            }
            let directory = settings.snapshot.btrfsDirectory
            if directory.isEmpty || directory.hasPrefix("/") || directory.split(separator: "/").contains("..") {
                object.problem(
                    "`snapshot.btrfs.directory` must be a relative path inside each subvolume, found \"\(directory)\"")
            }
        case .lvm:
            if settings.snapshot.lvmVolumes.isEmpty {
                object.problem(
                    "`snapshot.lvm.volumes` must list the origin volumes (\"VG/LV\") when `snapshot.provider` is "
                        + "\"lvm\""
                )
            }
            for volume in settings.snapshot.lvmVolumes where volume.split(separator: "/").count != 2 {
                object.problem("`snapshot.lvm.volumes` entries must be \"VG/LV\", found \"\(volume)\"")
            }
        case .none, .command:
            break
        }
        let problems = object.problems + object.unusedKeys.map { "unknown key `\($0)`" }
        guard problems.isEmpty else {
            throw AgentError(code: .invalidAgentSettings, message: "\(path): " + problems.joined(separator: "; "))
        }
        return settings
    }
}
