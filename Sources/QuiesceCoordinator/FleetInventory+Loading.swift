import Foundation
import QuiesceAPI

extension FleetInventory {
    /// Why an inventory cannot be used: every problem, each with its location in the file.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var problems: [String]
        public var description: String {
            "\(path) has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
                + problems.map { "  - \($0)" }.joined(separator: "\n")
        }
    }

    /// Reads and checks an inventory file. Relative file references are relative to the file.
    /// `requiringFiles` false skips checking that the files it names exist, for what makes them
    /// (`quiesce ca issue` writes the certificates the inventory names).
    public static func load(path: String, requiringFiles: Bool = true) throws(LoadError) -> FleetInventory {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, problems: ["cannot read the file; pass the inventory with --fleet FILE"])
        }
        let base = (path as NSString).deletingLastPathComponent
        return try parse(
            Array(data), path: path,
            resolve: { reference in
                reference.hasPrefix("/") ? reference : (base as NSString).appendingPathComponent(reference)
            },
            fileExists: { requiringFiles ? FileManager.default.fileExists(atPath: $0) : true })
    }

    /// Parses inventory JSON; `resolve` turns a file reference into a path to check.
    public static func parse(
        _ bytes: [UInt8], path: String, resolve: (String) -> String = { $0 },
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(LoadError) -> FleetInventory {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes)
        } catch {
            throw LoadError(path: path, problems: ["not valid JSON: \(error)"])
        }
        var root = StrictObject(json, what: "the inventory")
        var inventory = FleetInventory(vms: [], groups: [:], defaults: Defaults())
        var fileProblems: [String] = []
        func checkFile(_ key: String, _ reference: String?) -> String? {
            guard let reference else { return nil }
            let resolved = resolve(reference)
            if !fileExists(resolved) { fileProblems.append("`\(key)`: \(resolved) does not exist") }
            return resolved
        }
        root.object("defaults") { defaults in
            inventory.defaults.tokenFile = checkFile(defaults.path("tokenFile"), defaults.string("tokenFile"))
            inventory.defaults.tls = Self.readTLS(&defaults, checkFile)
            inventory.defaults.insecurePlaintext = defaults.bool("insecurePlaintext") ?? false
            if let seconds = defaults.integer("requestTimeoutSeconds", minimum: 1) {
                inventory.defaults.requestTimeoutSeconds = seconds
            }
        }
        let groups =
            root.namedObjects("groups") { name, group -> Group in
                var policy = Group.Policy.requireAll
                if let text = group.string("policy") {
                    if let known = Group.Policy(rawValue: text) {
                        policy = known
                    } else {
                        group.problem(
                            "`\(group.path("policy"))` must be \"requireAll\" or \"bestEffort\", found \"\(text)\"")
                    }
                }
                var deadlines = Deadlines()
                group.object("deadlines") { times in
                    if let value = times.integer("prepareSeconds", minimum: 1) { deadlines.prepareSeconds = value }
                    if let value = times.integer("freezeSeconds", minimum: 1) { deadlines.freezeSeconds = value }
                    if let value = times.integer("snapshotSeconds", minimum: 1) { deadlines.snapshotSeconds = value }
                    if let value = times.integer("thawSeconds", minimum: 1) { deadlines.thawSeconds = value }
                    if let value = times.integer("finishSeconds", minimum: 1) { deadlines.finishSeconds = value }
                    if let value = times.integer("verifySeconds", minimum: 1) { deadlines.verifySeconds = value }
                }
                func command(_ key: String, example: String) -> [String]? {
                    let command = group.stringArray(key)
                    if let command, command.first?.hasPrefix("/") != true {
                        group.problem(
                            "`\(group.path(key))` must start with an absolute program path, e.g. "
                                + "[\"/usr/local/bin/\(example)\", \"--group\", \"\(name)\"]")
                    }
                    return command
                }
                let retentionPath = group.path("retention")
                let retention = group.object("retention") { retention -> RetentionPolicy? in
                    let keepLast = retention.integer("keepLast", minimum: 1)
                    let keepDays = retention.integer("keepDays", minimum: 1)
                    do {
                        return try RetentionPolicy(keepLast: keepLast, keepDays: keepDays)
                    } catch {
                        retention.problem("`\(retentionPath)`: \(error)")
                        return nil
                    }
                }
                return Group(
                    name: name, policy: policy, deadlines: deadlines,
                    snapshotCommand: command("snapshotCommand", example: "snapshot-disks"),
                    verifyCommand: command("verifyCommand", example: "restore-and-check"),
                    schedule: Self.readSchedule(&group, "schedule"), retention: retention ?? nil)
            } ?? []
        inventory.groups = Dictionary(uniqueKeysWithValues: groups.map { ($0.name, $0) })
        inventory.sweepSchedule = Self.readSchedule(&root, "sweepSchedule")
        inventory.webhooks =
            root.objectArray("webhooks") { _, hook -> Webhook? in
                let url = hook.string("url", required: true) ?? ""
                if !url.isEmpty, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
                    hook.problem("`\(hook.path("url"))` must be an http:// or https:// URL, found \"\(url)\"")
                }
                var webhook = Webhook(url: url)
                if let kinds = hook.stringArray("kinds") {
                    let known = kinds.compactMap(FleetEvent.Kind.init(rawValue:))
                    for kind in kinds where FleetEvent.Kind(rawValue: kind) == nil {
                        hook.problem(
                            "`\(hook.path("kinds"))` names \"\(kind)\"; the kinds are "
                                + FleetEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    webhook.kinds = Set(known)
                }
                webhook.tokenFile = checkFile(hook.path("tokenFile"), hook.string("tokenFile"))
                if let attempts = hook.integer("maxAttempts", minimum: 1) { webhook.maxAttempts = attempts }
                if let seconds = hook.integer("firstRetrySeconds", minimum: 1) { webhook.firstRetrySeconds = seconds }
                return url.isEmpty ? nil : webhook
            }?.compactMap { $0 } ?? []
        var seen: [String: Int] = [:]
        let vms = root.objectArray("vms") { index, vm -> VM? in
            let name = vm.string("name", required: true) ?? ""
            let address = vm.string("address", required: true) ?? ""
            let memberOf = vm.stringArray("groups") ?? []
            let labels = vm.stringMap("labels") ?? [:]
            let token = checkFile(vm.path("tokenFile"), vm.string("tokenFile"))
            let tls = Self.readTLS(&vm, checkFile)
            let insecurePlaintext = vm.bool("insecurePlaintext")
            if !name.isEmpty {
                if let first = seen[name] {
                    vm.problem("`\(vm.path("name"))`: \"\(name)\" is already the name of vms[\(first)]")
                }
                seen[name] = seen[name] ?? index
            }
            if !address.isEmpty, !Self.isHostPort(address) {
                vm.problem(
                    "`\(vm.path("address"))` must be \"host:port\" with a port from 1 to 65535, found \"\(address)\"")
            }
            for group in memberOf where inventory.groups[group] == nil {
                vm.problem("`\(vm.path("groups"))` names \"\(group)\", which is not in `groups`")
            }
            let tokenFile = token ?? inventory.defaults.tokenFile
            let tlsFiles = tls ?? inventory.defaults.tls
            guard tokenFile != nil || tlsFiles?.certificateFile != nil else {
                vm.problem(
                    "`\(vm.path("tokenFile"))` is missing and there is no `defaults.tokenFile` (or, for enrolled "
                        + "agents, a `tls.certificateFile` of the coordinator's)")
                return nil
            }
            return VM(
                name: name, address: address, groups: memberOf, labels: labels, tokenFile: tokenFile,
                tls: tlsFiles,
                insecurePlaintext: insecurePlaintext ?? inventory.defaults.insecurePlaintext)
        }
        guard let vms else {
            root.problem("`vms` is required: an array of {\"name\", \"address\": \"host:port\", \"groups\": [...]}")
            throw LoadError(path: path, problems: root.problems)
        }
        inventory.vms = vms.compactMap { $0 }
        let problems = root.problems + root.unusedKeys.map { "unknown key `\($0)`" } + fileProblems
        guard problems.isEmpty else { throw LoadError(path: path, problems: problems) }
        return inventory
    }

    /// `{"cron": "30 2 * * *", "timeZone": "Europe/Berlin"}`: the zone is required, as a schedule
    /// read in whatever zone the coordinator's machine has would move when the machine does.
    private static func readSchedule(_ object: inout StrictObject, _ key: String) -> CronSchedule? {
        let path = object.path(key)
        let schedule = object.object(key) { schedule -> CronSchedule? in
            let cron = schedule.string("cron", required: true)
            let zone = schedule.string("timeZone", required: true)
            guard let cron, let zone else { return nil }
            do {
                return try CronSchedule(cron, timeZone: zone)
            } catch {
                schedule.problem("`\(path)`: \(error)")
                return nil
            }
        }
        return schedule ?? nil
    }

    private static func readTLS(_ object: inout StrictObject, _ checkFile: (String, String?) -> String?) -> TLSFiles? {
        object.object("tls") { tls in
            TLSFiles(
                caFile: checkFile(tls.path("caFile"), tls.string("caFile")),
                certificateFile: checkFile(tls.path("certificateFile"), tls.string("certificateFile")),
                keyFile: checkFile(tls.path("keyFile"), tls.string("keyFile")))
        }
    }

    static func isHostPort(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
            let port = Int(text[text.index(after: colon)...])
        else {
            return false
        }
        return (1...65535).contains(port)
    }
}
