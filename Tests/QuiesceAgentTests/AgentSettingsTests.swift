import QuiesceAPI
import Testing

@testable import QuiesceAgent

@Suite("Agent settings")
struct AgentSettingsTests {
    private func parse(_ text: String) throws(AgentError) -> AgentSettings {
        try AgentSettings.parse(Array(text.utf8), path: "/etc/quiesce/agent.json")
    }

    private func problem(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            #expect(error.code == .invalidAgentSettings)
            return error.message
        }
    }

    @Test func everyKeyIsOptional() throws {
        #expect(try parse("{}") == AgentSettings())
    }

    @Test func everyKeyIsRead() throws {
        let settings = try parse(
            """
            {"pluginConfigPath": "/c.json", "pluginHostPath": "/h.conf", "scriptTimeoutCapSeconds": 3600,
             "scriptKillGraceSeconds": 2, "requiredOwnerUid": 1000,
             "freeze": {"mounts": ["/data", "/"], "timeoutSeconds": 30},
             "snapshot": {"provider": "command", "command": ["/usr/local/bin/snap", "--all"], "diskCount": 1,
             "timeoutSeconds": 20}}
            """)
        #expect(settings.pluginConfigPath == "/c.json")
        #expect(settings.pluginHostPath == "/h.conf")
        #expect(settings.scriptTimeoutCapSeconds == 3600)
        #expect(settings.scriptKillGraceSeconds == 2)
        #expect(settings.requiredOwnerUid == 1000)
        #expect(settings.freeze == .init(mounts: ["/data", "/"], timeoutSeconds: 30))
        #expect(settings.snapshot.provider == .command)
        #expect(settings.snapshot.command == ["/usr/local/bin/snap", "--all"])
        #expect(settings.snapshot.diskCount == 1)
        #expect(settings.snapshot.timeoutSeconds == 20)
    }

    @Test func unknownKeysAndWrongTypesAreErrorsNamingThem() throws {
        let message = try #require(
            problem(
                #"{"freeze": {"mount": ["/"], "timeoutSeconds": "60"}, "snapshot": {"provider": "lvm2"}, "listening": "#
                    + #"1}"#
            ))
        #expect(message.contains("unknown key `freeze.mount`"))
        #expect(message.contains("`freeze.timeoutSeconds` must be an integer ≥ 1, found string \"60\""))
        #expect(
            message.contains(
                "`snapshot.provider` must be one of \"none\", \"command\", \"btrfs\", \"lvm\", found \"lvm2\""))
        #expect(message.contains("unknown key `listening`"))
    }

    @Test func commandProviderNeedsAnAbsoluteProgram() throws {
        #expect(
            try #require(problem(#"{"snapshot": {"provider": "command"}}"#)).contains("`snapshot.command` must name"))
        #expect(
            try #require(problem(#"{"snapshot": {"provider": "command", "command": ["cp", "a", "b"]}}"#))
                .contains("`snapshot.command[0]` must be an absolute path"))
    }

    @Test func commandRetentionNeedsBothProgramsAndTheCommandProvider() throws {
        let command = #""provider": "command", "command": ["/usr/local/bin/snap"]"#
        #expect(
            try #require(problem(#"{"snapshot": {\#(command), "listCommand": ["/l"]}}"#))
                .contains("`snapshot.listCommand` and `snapshot.deleteCommand` go together"))
        #expect(
            try #require(problem(#"{"snapshot": {\#(command), "listCommand": ["l"], "deleteCommand": ["/d"]}}"#))
                .contains("`snapshot.listCommand[0]` must be an absolute path"))
        #expect(
            try #require(
                problem(#"{"snapshot": {"provider": "none", "listCommand": ["/l"], "deleteCommand": ["/d"]}}"#)
            )
            .contains("belong to the \"command\" provider"))
        #expect(problem(#"{"snapshot": {\#(command), "listCommand": ["/l"], "deleteCommand": ["/d", "x"]}}"#) == nil)
    }

    @Test func btrfsAndLVMProvidersNeedTheirVolumes() throws {
        let btrfs = try parse(
            #"{"snapshot": {"provider": "btrfs", "btrfs": {"subvolumes": ["/data"], "directory": ".snaps"}}}"#)
        #expect(btrfs.snapshot.btrfsSubvolumes == ["/data"] && btrfs.snapshot.btrfsDirectory == ".snaps")
        let lvm = try parse(#"{"snapshot": {"provider": "lvm", "lvm": {"volumes": ["vg0/data"], "size": "2G"}}}"#)
        #expect(lvm.snapshot.lvmVolumes == ["vg0/data"] && lvm.snapshot.lvmSize == "2G")
        #expect(
            try #require(problem(#"{"snapshot": {"provider": "btrfs"}}"#)).contains(
                "`snapshot.btrfs.subvolumes` must list"))
        #expect(
            try #require(
                problem(#"{"snapshot": {"provider": "btrfs", "btrfs": {"subvolumes": ["/d"], "directory": "../x"}}}"#)
            )
            .contains("must be a relative path inside each subvolume"))
        #expect(
            try #require(problem(#"{"snapshot": {"provider": "lvm", "lvm": {"volumes": ["data"]}}}"#)).contains(
                "must be \"VG/LV\""))
    }

    @Test func relativePathsAndBadJSONAreRejected() throws {
        #expect(try #require(problem(#"{"freeze": {"mounts": ["data"]}}"#)).contains("absolute paths"))
        #expect(try #require(problem(#"{"pluginConfigPath": "c.json"}"#)).contains("must be absolute"))
        #expect(try #require(problem("{")).contains("not valid JSON"))
        #expect(try #require(problem(#"{"freeze": []}"#)).contains("`freeze` must be a JSON object"))
    }

    @Test func signingKeysAreEd25519PublicKeysAndAnythingElseIsNamed() throws {
        let key = "ed25519:" + String(repeating: "A", count: 43) + "="
        let settings = try AgentSettings.parse(Array(#"{"trust": {"signingKeys": ["\#(key)"]}}"#.utf8), path: "a.json")
        #expect(settings.trust.signingKeys.map(\.description) == [key])
        let wrong = try #require(problem(#"{"trust": {"signingKeys": ["ed25519:c2hvcnQ="]}}"#))
        #expect(wrong.contains("`trust.signingKeys`") && wrong.contains("quiesce sign --new-key"), "\(wrong)")
    }
}
