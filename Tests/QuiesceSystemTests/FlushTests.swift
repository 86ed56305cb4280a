import QuiesceSystem
import QuiesceTestSupport
import Testing

@Suite("Flush before freeze")
struct FlushTests {
    @Test func aMountIsFlushedAndAMissingOneIsNamed() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        #expect(FileSystemFlush.flush([directory.path]).isEmpty)
        let errors = FileSystemFlush.flush([directory.url("absent"), directory.path])
        #expect(errors.map(\.subject) == [directory.url("absent")])
        #expect(errors.first?.isNotFound == true)
    }

    @Test func gracePeriodsAreExpeditedOnlyFromOffAndPutBack() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.url("rcu_expedited")
        try directory.write("rcu_expedited", "0\n")
        let periods = KernelGracePeriods(path: path)
        let restore = try #require(periods.expedite())
        #expect(try directory.read("rcu_expedited") == "1")
        #expect(periods.isOn)
        restore()
        #expect(try directory.read("rcu_expedited") == "0")
        #expect(!periods.isOn)

        try directory.write("rcu_expedited", "1\n")
        #expect(periods.expedite() == nil, "already on: left on, and nothing to put back")
        #expect(periods.isOn)
        #expect(try directory.read("rcu_expedited") == "1\n")
        #expect(KernelGracePeriods(path: directory.url("absent")).expedite() == nil)
    }
}
