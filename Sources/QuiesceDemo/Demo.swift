import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient

/// `quiesce demo`: the whole story on loopback, with a real application spread over two VMs.
/// VM `files` stores uploads, VM `db` runs PostgreSQL with a row per upload naming its file and
/// SHA-256 (as root each disk is a loop-mounted ext4 image, really frozen). The demo pushes the
/// scripts (the PostgreSQL recipe on `db`), sweeps, takes one group snapshot whose restore
/// verification starts PostgreSQL on the copy and finds every row's file; then, for contrast,
/// snapshots the two VMs one after the other and lets the same verification find the rows whose
/// files the copy lacks. Everything is cleaned up.
public struct Demo: Sendable {
    public var agentPath: String
    /// `deploy/recipes`, where the PostgreSQL recipe's script is.
    public var recipes: String
    /// Where the HTML timeline is written; it outlives the demo.
    public var timelinePath: String
    public var style: TerminalStyle
    /// Human output, line by line.
    public var say: @Sendable (String) -> Void

    /// The demo's two VMs.
    public static let vms = ["files", "db"]

    public init(
        agentPath: String, recipes: String, timelinePath: String, style: TerminalStyle,
        say: @escaping @Sendable (String) -> Void
    ) {
        self.agentPath = agentPath
        self.recipes = recipes
        self.timelinePath = timelinePath
        self.style = style
        self.say = say
    }

    /// What the demo found, for `--json`.
    public struct Outcome: Encodable, Sendable {
        public var freezes: Bool
        public var push: [PushReport]
        public var sweep: SweepReport
        public var snapshot: GroupSnapshotReport
        /// The same VMs snapshotted one after the other, and what the same verification found.
        public var oneAfterTheOther: RestoreVerification?
        public var timeline: String
        public var succeeded: Bool
    }

    public func run(fleet: DemoFleet) async throws -> Outcome {
        say(
            style.dim(
                "== two VMs on loopback, files and db, each a quiesce-agent with its own disk, in \(fleet.directory)"))
        if fleet.freezes {
            say("Each disk is a loop-mounted ext4 image that the agents really freeze (FIFREEZE).")
        } else {
            say(
                style.warning("Not root: freezing is skipped, because FIFREEZE and loop mounts need root.")
                    + " The disks are plain directories; the pre-script on files pauses the application instead. Run "
                    + "as root to see real freezes.")
        }
        let inventory = try fleet.inventory()
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 64), requestTimeout: .seconds(30))
        try await fleet.waitUntilReady()
        let disks = Dictionary(uniqueKeysWithValues: zip(fleet.agents.map(\.name), fleet.disks))
        let application = try fleet.run {
            try UploadsApplication(
                filesDisk: disks["files"]!, databaseDisk: disks["db"]!, runDirectory: "\(fleet.directory)/pg-run")
        } stop: {
            $0.stop()
        }
        guard try application.waitUntilCommitted(moreThan: 0) else {
            throw DemoShell.Failure(description: "the uploads application committed nothing within 30 s")
        }
        say(
            "The application stores each upload as a file on files (fsync), then commits a row naming it and its "
                + "SHA-256 to PostgreSQL on db, without pause. Its promise: every row's file exists with that hash.")

        say("")
        say(style.dim("== quiesce push: each VM its plugin config and scripts (db: deploy/recipes/postgresql)"))
        var pushes: [PushReport] = []
        var expected: Sweep.Expected = [:]
        for vm in inventory.vms {
            let bundle = try writeBundle(for: vm.name, fleet: fleet, application: application)
            let push = await Push.run(bundle, to: [vm], canary: 1, agents: agents)
            say(push.text(style: style))
            pushes.append(push)
            expected.merge(bundle.expectedFiles(on: [vm.name], origin: "the demo's push")) { _, new in new }
        }

        say(style.dim("== quiesce sweep: permissions, scripts, what each VM's next snapshot would reach"))
        let sweep = await Sweep.run(inventory.vms, agents: agents, expected: { [expected] in expected })
        say(sweep.text(all: true, style: style))

        say(
            style.dim(
                "== quiesce snapshot --group demo: pre-scripts (db: CHECKPOINT), freeze both, copy both, thaw, "
                    + "post-scripts, then the restore verification"))
        guard let group = inventory.groups["demo"], let verifyCommand = group.verifyCommand else {
            throw DemoShell.Failure(description: "the demo inventory has no group demo with a verifyCommand")
        }
        let snapshot = await GroupSnapshot(group: group, members: inventory.vms, agents: agents).run()
        say(snapshot.text(style: style))
        try GroupTimelineHTML.render(snapshot).write(toFile: timelinePath, atomically: true, encoding: .utf8)
        say("timeline: \(timelinePath)")

        say("")
        say(style.dim("== for contrast: the same two VMs snapshotted one after the other, files first, then db"))
        let contrast = try await oneAfterTheOther(
            group: group, inventory: inventory, application: application, agents: agents, verify: verifyCommand)
        if let contrast {
            say(contrast.text(style: style))
            if contrast.result == .failed {
                say(
                    style.good("As expected: ")
                        + "rows committed between the two snapshots name files the files copy never got. "
                        + "Only one consistent cut across both VMs restores the application whole.")
            }
        }
        let succeeded =
            pushes.allSatisfy(\.succeeded) && snapshot.status == .succeeded && snapshot.verification?.result == .passed
            && contrast?.result == .failed
        return Outcome(
            freezes: fleet.freezes, push: pushes, sweep: sweep, snapshot: snapshot, oneAfterTheOther: contrast,
            timeline: timelinePath, succeeded: succeeded)
    }

    /// Snapshots `files`, waits until the database committed a row whose file came after that
    /// snapshot, snapshots `db`, and runs the group's verification on the pair.
    private func oneAfterTheOther(
        group: FleetInventory.Group, inventory: FleetInventory, application: UploadsApplication, agents: AgentClient,
        verify: [String]
    ) async throws -> RestoreVerification? {
        var alone = group
        alone.verifyCommand = nil
        var snapshots: [(vm: String, id: String)] = []
        for vm in inventory.vms {
            let report = await GroupSnapshot(group: alone, members: [vm], agents: agents).run()
            guard report.status == .succeeded, let id = report.members.first?.snapshotId else {
                say(style.bad("The snapshot of \(vm.name) alone failed: ") + (report.failure ?? "no snapshot id"))
                return nil
            }
            say("\(vm.name) alone: snapshot \(id)")
            snapshots.append((vm.name, id))
            if vm.name == "files" {
                // Any row past the files stored now names a file created after the snapshot.
                let stored = application.storedFiles()
                guard try application.waitUntilCommitted(moreThan: stored) else {
                    say(style.bad("The application committed no row past \(stored) within 30 s"))
                    return nil
                }
            }
        }
        return await RestoreVerification.run(
            verify,
            environment: RestoreVerification.environment(
                group: group.name, session: "one-after-the-other", snapshots: snapshots),
            deadline: .seconds(group.deadlines.verifySeconds))
    }

    /// The config and scripts `vm` gets. db: the PostgreSQL recipe, a CHECKPOINT before the
    /// freeze. files: nothing to prepare as root (the freeze makes the copy); without root the
    /// pre-script pauses the application and the post-script resumes it.
    private func writeBundle(for vm: String, fleet: DemoFleet, application: UploadsApplication) throws -> PushBundle {
        let root = fleet.scriptRoot
        let push = "\(fleet.directory)/push-\(vm)"
        try DemoShell.makeDirectory(push)
        let config = "\(push)/VMSnapshotScriptPluginConfig.json"
        let pre: String
        let post: String
        let params: String
        if vm == "db" {
            pre = "\(push)/postgresql-quiesce.sh"
            post = pre
            try DemoShell.write(
                pre, try String(contentsOfFile: "\(recipes)/postgresql/postgresql-quiesce.sh", encoding: .utf8),
                mode: 0o700)
            let arguments = [
                "pre", "--conninfo", application.database.conninfo, "--os-user", PostgreSQLCluster.owner ?? "",
            ]
            params =
                #""preScriptParams": \#(try json(arguments)), "postScriptParams": ["post"], "#
        } else {
            pre = "\(push)/\(vm)-pre.sh"
            post = "\(push)/\(vm)-post.sh"
            let group = application.processGroup
            try DemoShell.write(
                pre,
                "#!/bin/sh\n" + (fleet.freezes ? "" : "kill -STOP -\(group)\n")
                    + "echo \"nothing to prepare: the uploads are fsynced files\"\n", mode: 0o700)
            try DemoShell.write(
                post,
                "#!/bin/sh\n" + (fleet.freezes ? "" : "kill -CONT -\(group)\n")
                    + "echo \"released (snapshot $QUIESCE_SNAPSHOT_RESULT)\"\n", mode: 0o700)
            params = ""
        }
        let name = { (path: String) in "\(root)/" + (path as NSString).lastPathComponent }
        try DemoShell.write(
            config,
            #"{"pluginName": "ScriptRunner", "preScriptLocation": "\#(name(pre))", "postScriptLocation": "#
                + #""\#(name(post))", \#(params)"timeoutInSeconds": 60, "continueBackupOnFailure": false, "#
                + #""fsFreezeEnabled": \#(fleet.freezes)}"#,
            mode: 0o600)
        return try PushBundle.load(pluginConfig: config, preScript: pre, postScript: post)
    }

    private func json(_ strings: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(strings), as: UTF8.self)
    }
}
