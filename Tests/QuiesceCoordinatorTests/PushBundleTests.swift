import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceTestSupport
import Testing

@Suite("Push bundle")
struct PushBundleTests {
    @Test func aValidBundleCarriesEachFilesHashInPushOrder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let write = { try directory.write($0, $1) }
        let config = try write("c.json", #"{"preScriptLocation": "/s/pre.sh", "postScriptLocation": "/s/post.sh"}"#)
        let pre = try write("pre.sh", "#!/bin/sh\n")
        let bundle = try PushBundle.load(pluginConfig: config, preScript: pre, postScript: nil)
        #expect(bundle.files.map(\.role.rawValue) == ["pluginConfig", "preScript"])
        #expect(bundle.scripts[.pre]?.sha256 == ContentHash.sha256(of: Array("#!/bin/sh\n".utf8)))
        #expect(bundle.config.preScriptLocation == "/s/pre.sh")
    }

    @Test func everyProblemIsListedBeforeAnythingIsSent() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let write = { try directory.write($0, $1) }
        let config = try write("c.json", #"{"preScriptLocation": "/s/pre.sh", "postScriptLocation": "", "colour": 1}"#)
        let pre = try write("pre.sh", "echo no shebang\n")
        let post = try write("post.sh", "#!/bin/sh\n")
        do {
            _ = try PushBundle.load(pluginConfig: config, preScript: pre, postScript: post)
            Issue.record("an unusable bundle loaded")
        } catch {
            #expect(error.message.hasPrefix("nothing was pushed"))
            #expect(error.message.contains("unknown key `colour`"))
            #expect(error.message.contains("does not start with #!"))
            #expect(error.message.contains("`postScriptLocation`") && error.message.contains("is empty"))
        }
        #expect(throws: PushError.self) {
            try PushBundle.load(pluginConfig: "/nonexistent/c.json", preScript: nil, postScript: nil)
        }
    }
}
