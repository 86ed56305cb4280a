import Testing

@testable import QuiesceAPI

@Suite("Plugin config loading")
struct PluginConfigTests {
    /// The original framework's template, byte for byte as users have it.
    static let template = """
        {
            "pluginName" : "ScriptRunner",
            "preScriptLocation" : "",
            "postScriptLocation" : "",
            "preScriptParams" : ["", ""],
            "postScriptParams" : ["", ""],
            "preScriptNoOfRetries" : 0,
            "postScriptNoOfRetries" : 0,
            "timeoutInSeconds" : 30,
            "continueBackupOnFailure" : true,
            "fsFreezeEnabled" : true
        }
        """

    private func parse(_ text: String) throws(PluginConfig.Invalid) -> PluginConfig.Loaded {
        try PluginConfig.parse(Array(text.utf8), path: "/etc/azure/VMSnapshotScriptPluginConfig.json")
    }

    private func problem(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            #expect(error.code == .incorrectJSONConfigFile)
            return error.message
        }
    }

    @Test func theOriginalTemplateLoadsAsIs() throws {
        let loaded = try parse(Self.template)
        #expect(loaded.unknownKeys.isEmpty)
        #expect(loaded.config.preScriptParams == ["", ""])
        #expect(loaded.config.timeoutInSeconds == 30)
        #expect(loaded.config.preScriptLocation.isEmpty)
    }

    @Test func absentOptionalKeysTakeTheirDefaults() throws {
        let config = try parse(#"{"preScriptLocation": "/a", "postScriptLocation": "/b"}"#).config
        var expected = PluginConfig(preScriptLocation: "/a", postScriptLocation: "/b")
        expected.pluginName = "ScriptRunner"
        #expect(config == expected)
        #expect(config.continueBackupOnFailure && config.fsFreezeEnabled)
        #expect(config.timeoutInSeconds == 30 && config.preScriptNoOfRetries == 0 && config.preScriptParams.isEmpty)
    }

    @Test(arguments: [
        (
            "continueBackupOnFailure", #""false""#,
            "must be a boolean (true or false, without quotes), found string \"false\""
        ),
        ("fsFreezeEnabled", "0", "must be a boolean (true or false, without quotes), found integer 0"),
        ("timeoutInSeconds", #""30""#, "must be an integer ≥ 1, found string \"30\""),
        ("timeoutInSeconds", "0", "must be an integer ≥ 1, found 0"),
        ("timeoutInSeconds", "2.5", "must be an integer ≥ 1, found number 2.5"),
        ("preScriptNoOfRetries", "-1", "must be an integer ≥ 0, found -1"),
        ("postScriptNoOfRetries", "true", "must be an integer ≥ 0, found boolean true"),
        ("preScriptParams", #""-v""#, "must be an array of strings, found string \"-v\""),
        ("postScriptParams", #"["a", 1]"#, "must be an array of strings, found array"),
        ("pluginName", "null", "must be a string, found null"),
        ("preScriptLocation", "42", "must be a string, found integer 42"),
        ("postScriptLocation", "[]", "must be a string, found array"),
    ])
    func everyWrongTypeIsRejectedNamingKeyAndTypes(key: String, value: String, expected: String) throws {
        var object = [
            "\"preScriptLocation\": \"/pre\"", "\"postScriptLocation\": \"/post\"",
        ].filter { !$0.contains("\"\(key)\"") }
        object.append("\"\(key)\": \(value)")
        let message = try #require(problem("{" + object.joined(separator: ", ") + "}"))
        #expect(message.contains("`\(key)` \(expected)"), "\(message)")
    }

    @Test func everyProblemIsListedAtOnce() throws {
        let message = try #require(problem(#"{"timeoutInSeconds": "30", "fsFreezeEnabled": "no"}"#))
        #expect(message.contains("`preScriptLocation` is missing"))
        #expect(message.contains("`postScriptLocation` is missing"))
        #expect(message.contains("`timeoutInSeconds`"))
        #expect(message.contains("`fsFreezeEnabled`"))
    }

    @Test func relativeScriptPathsAreRejected() throws {
        let message = try #require(problem(#"{"preScriptLocation": "pre.sh", "postScriptLocation": "/post"}"#))
        #expect(message.contains("`preScriptLocation` must be an absolute path"))
    }

    @Test func aTrailingCommaIsIncorrectJSONAsInTheOriginalWithItsPlace() throws {
        let message = try #require(
            problem("{\n  \"preScriptLocation\": \"/a\",\n  \"postScriptLocation\": \"/b\",\n}\n"))
        #expect(message.contains("is not valid JSON (line 4, column 1: a trailing comma before '}'"), "\(message)")
    }

    @Test func malformedJSONAndNonObjectsAreRejected() throws {
        #expect(try #require(problem(#"{"preScriptLocation": "/a","#)).contains("is not valid JSON"))
        #expect(try #require(problem("[1, 2]")).contains("must be a JSON object, found array"))
        #expect(try #require(problem("")).contains("is not valid JSON"))
    }

    @Test func unknownKeysAreWarningsAndCompatibilityKeysAreSilent() throws {
        let loaded = try parse(
            #"{"preScriptLocation": "/a", "postScriptLocation": "/b", "appName": "x", "#
                + #""ScriptsExecutionPollTimeSeconds": 5, "timeoutInSecond": 10}"#
        )
        #expect(loaded.unknownKeys == ["timeoutInSecond"])
        #expect(loaded.config.timeoutInSeconds == 30)
    }
}
