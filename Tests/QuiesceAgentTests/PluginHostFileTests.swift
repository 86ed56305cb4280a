import QuiesceAPI
import Testing

@testable import QuiesceAgent

@Suite("Plugin host file parsing")
struct PluginHostFileTests {
    private func problem(_ text: String) -> String? {
        do {
            _ = try PluginHostFile.parse(text, path: "/etc/azure/VMSnapshotPluginHost.conf")
            return nil
        } catch {
            #expect(error.code == .incorrectPluginhostFile)
            return error.message
        }
    }

    @Test func severalPluginsWithACap() throws {
        let host = try PluginHostFile.parse(
            """
            # two applications on this VM
            [pre_post]
            timeoutInSeconds = 120
            numberOfPlugins: 2
            pluginName0 = mysql
            pluginPath0 = /etc/azure/mysql
            pluginConfigPath0 = /etc/azure/mysql/VMSnapshotScriptPluginConfig.json
            ; the second one has no name
            PluginConfigPath1=/etc/azure/app/config.json
            """, path: "host.conf")
        #expect(host.timeoutInSeconds == 120)
        #expect(host.plugins.count == 2)
        #expect(
            host.plugins[0]
                == .init(
                    name: "mysql", path: "/etc/azure/mysql",
                    configPath: "/etc/azure/mysql/VMSnapshotScriptPluginConfig.json"))
        #expect(host.plugins[1].name == "plugin1")
        #expect(host.plugins[1].configPath == "/etc/azure/app/config.json")
    }

    @Test func theCapIsOptional() throws {
        let host = try PluginHostFile.parse("[pre_post]\nnumberOfPlugins = 1\npluginConfigPath0 = /c.json\n", path: "h")
        #expect(host.timeoutInSeconds == nil)
    }

    @Test func brokenFilesAreRejectedWithEveryProblem() throws {
        #expect(try #require(problem("numberOfPlugins = 1")).contains("before any `[pre_post]` section"))
        #expect(try #require(problem("[other]\nx = 1")).contains("no `[pre_post]` section"))
        #expect(
            try #require(problem("[pre_post]\nnumberOfPlugins = two")).contains(
                "`numberOfPlugins` must be an integer ≥ 1, found \"two\""))
        #expect(try #require(problem("[pre_post]\nnumberOfPlugins = 0")).contains("`numberOfPlugins`"))
        let both = try #require(
            problem("[pre_post]\ntimeoutInSeconds = soon\nnumberOfPlugins = 2\npluginConfigPath0 = /a\n"))
        #expect(both.contains("`timeoutInSeconds`"))
        #expect(both.contains("`pluginConfigPath1` must be an absolute path"))
        #expect(try #require(problem("[pre_post]\njust words\n")).contains("line 2"))
        // A count in the billions (found by fuzzing) is refused at once, not looked up key by key.
        #expect(
            try #require(problem("[pre_post]\nnumberOfPlugins = 40000000000000000\n")).contains(
                "`numberOfPlugins` is 40000000000000000, more than the 64 plugins"))
    }
}
