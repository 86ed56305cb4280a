import Testing

@testable import QuiesceSystem

/// Dropping the relocation tables' pages gives memory back and loses nothing: the pages are
/// read back from the file, byte for byte.
@Suite("Relocation pages")
struct RelocationPagesTests {
    @Test func theTablesArePagedBackInUnchanged() {
        let tables = RelocationPages.tables()
        // This test runner is position-independent, as the agent is: it has relocations.
        #expect(!tables.isEmpty)
        let before = tables.map { Array($0) }
        #expect(RelocationPages.release() > 0)
        #expect(tables.map { Array($0) } == before)
    }
}
