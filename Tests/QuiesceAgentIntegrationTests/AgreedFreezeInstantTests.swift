import Foundation
import QuiesceAgent
import QuiesceTestSupport
import Testing

/// The freeze at a group's agreed instant, through the real guard on a loop-mounted ext4 image.
@Suite(.enabled(if: Privilege.rootTestsEnabled, Comment(rawValue: Privilege.rootOnlyReason)))
struct AgreedFreezeInstantTests {
    @Test func theGuardFreezesAtTheAgreedInstantAndNeverBefore() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let service = GuardFreezeService(executable: AgentBinary.path, records: GuardRecords(directory: state.path))
        let instant = Date().addingTimeInterval(0.4)
        let held = try await service.freeze([disk.mountPoint], timeout: .seconds(10), at: instant).get()
        let frozenBeforeThaw = !(try disk.acceptsWrites(within: 0.2))
        let thaw = await held.thaw()
        #expect(held.freezingSince >= instant, "the first FIFREEZE waited for the instant")
        #expect(held.frozenAt >= held.freezingSince)
        #expect(frozenBeforeThaw)
        #expect(thaw.held && thaw.errors.isEmpty)
        #expect(try disk.acceptsWrites(within: 5))
    }

    @Test func anInstantAlreadyPastFreezesAtOnce() async throws {
        let disk = try await LoopImage.make()
        defer { disk.remove() }
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let service = GuardFreezeService(executable: AgentBinary.path, records: GuardRecords(directory: state.path))
        let asked = Date()
        let held = try await service.freeze(
            [disk.mountPoint], timeout: .seconds(10), at: asked.addingTimeInterval(-5)
        ).get()
        let thaw = await held.thaw()
        #expect(held.freezingSince >= asked)
        #expect(thaw.held)
        #expect(try disk.acceptsWrites(within: 5))
    }
}
