import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient

/// `quiesce demo`: the whole story on loopback. Three agents, each with a disk an application
/// writes to (as root: loop-mounted ext4, really frozen); a config and scripts pushed to all; a
/// compliance sweep; one group snapshot; the copies checked for a consistent cut; everything
/// cleaned up.
public struct Demo: Sendable {
    public var agentPath: String
    public var count = 3
    /// Where the HTML timeline is written; it outlives the demo.
    public var timelinePath: String
    public var style: TerminalStyle
    /// Human output, line by line.
    public var say: @Sendable (String) -> Void

    public init(
        agentPath: String, timelinePath: String, style: TerminalStyle, say: @escaping @Sendable (String) -> Void
    ) {
        self.agentPath = agentPath
        self.timelinePath = timelinePath
        self.style = style
        self.say = say
    }

    /// What the demo found, for `--json`.
    public struct Outcome: Encodable, Sendable {
        public var freezes: Bool
        public var push: PushReport
        public var sweep: SweepReport
        public var snapshot: GroupSnapshotReport
        public var cut: CutCheck.Summary
        public var timeline: String
        public var succeeded: Bool
    }

    public func run(fleet: DemoFleet) async throws -> Outcome {
        say(style.dim("== \(count) VMs on loopback, each a quiesce-agent with its own disk, in \(fleet.directory)"))
        if fleet.freezes {
            say("Each disk is a loop-mounted ext4 image that the agents really freeze (FIFREEZE).")
        } else {
            say(
                style.warning("Not root: freezing is skipped, because FIFREEZE and loop mounts need root.")
                    + " The disks are plain directories; the pre-scripts pause the application instead. Run as root to "
                    + "see real freezes."
            )
        }
        let inventory = try fleet.inventory()
        let agents = AgentClient(client: CurlClient(maxConcurrentTransfers: 64), requestTimeout: .seconds(30))
        try await fleet.waitUntilReady()
        let writer = try SequenceWriter(disks: fleet.disks)
        defer { writer.stop() }
        say(
            "The application writes 1, 2, 3... to every disk in turn "
                + "(\(fleet.agents.map(\.name).joined(separator: " then "))), fsync after each, without pause."
        )
        try await Task.sleep(for: .milliseconds(300))

        say("")
        say(style.dim("== quiesce push: the plugin config and two scripts, checked locally first, to every VM"))
        let bundle = try writeBundle(fleet, writer: writer)
        let push = await Push.run(bundle, to: inventory.vms, canary: 1, agents: agents)
        say(push.text(style: style))

        say(style.dim("== quiesce sweep: permissions, scripts, what each VM's next snapshot would reach"))
        let expected = bundle.expectedFiles(on: inventory.vms.map(\.name), origin: "the demo's push")
        let sweep = await Sweep.run(inventory.vms, agents: agents, expected: expected)
        say(sweep.text(all: true, style: style))

        say(style.dim("== quiesce snapshot --group demo: pre-scripts, freeze all, snapshot, thaw all, post-scripts"))
        guard let group = inventory.groups["demo"] else {
            throw DemoShell.Failure(description: "the demo inventory has no group demo")
        }
        let snapshot = await GroupSnapshot(group: group, members: inventory.vms, agents: agents).run()
        say(snapshot.text(style: style))
        try GroupTimelineHTML.render(snapshot).write(toFile: timelinePath, atomically: true, encoding: .utf8)
        say("timeline: \(timelinePath)")

        say("")
        say(style.dim("== the proof: mount each copy and check the cut"))
        var cut = CutCheck.Summary(checked: false, consistent: false, highest: [], detail: "no snapshot to check")
        if snapshot.status == .succeeded {
            let copies = try fleet.openCopies(of: snapshot.sessionId)
            let check = CutCheck.check(copies)
            cut = CutCheck.Summary(
                checked: true, consistent: check.consistent, highest: check.highest, detail: check.description)
            if fleet.freezes { say("Every copy passes e2fsck and mounts read-only.") }
            say(
                check.consistent
                    ? style.good("Consistent cut: ") + check.description
                    : style.bad("Inconsistent: ") + check.description)
        }
        let succeeded = push.succeeded && snapshot.status == .succeeded && cut.consistent
        return Outcome(
            freezes: fleet.freezes, push: push, sweep: sweep, snapshot: snapshot, cut: cut, timeline: timelinePath,
            succeeded: succeeded)
    }

    /// The config and scripts the demo pushes. As root the freeze makes the cut; without root
    /// the pre-script pauses the application and the post-script resumes it.
    private func writeBundle(_ fleet: DemoFleet, writer: SequenceWriter) throws -> PushBundle {
        let root = fleet.scriptRoot
        let config = "\(fleet.directory)/push/VMSnapshotScriptPluginConfig.json"
        try DemoShell.makeDirectory("\(fleet.directory)/push")
        try DemoShell.write(
            config,
            #"{"pluginName": "ScriptRunner", "preScriptLocation": "\#(root)/pre.sh", "postScriptLocation": "#
                + #""\#(root)/post.sh", "timeoutInSeconds": 30, "continueBackupOnFailure": true, "fsFreezeEnabled": "#
                + #"\#(fleet.freezes)}"#,
            mode: 0o600)
        let pause = fleet.freezes ? "" : "kill -STOP \(writer.processIdentifier)\n"
        let resume = fleet.freezes ? "" : "kill -CONT \(writer.processIdentifier)\n"
        try DemoShell.write(
            "\(fleet.directory)/push/pre.sh", "#!/bin/sh\n\(pause)echo \"application quiesced\"\n", mode: 0o700)
        try DemoShell.write(
            "\(fleet.directory)/push/post.sh",
            "#!/bin/sh\n\(resume)echo \"application released (snapshot $QUIESCE_SNAPSHOT_RESULT)\"\n", mode: 0o700)
        return try PushBundle.load(
            pluginConfig: config, preScript: "\(fleet.directory)/push/pre.sh",
            postScript: "\(fleet.directory)/push/post.sh")
    }
}
