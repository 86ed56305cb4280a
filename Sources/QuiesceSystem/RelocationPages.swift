import Glibc

/// The executable's relocation tables, given back once the dynamic loader has applied them.
///
/// The static agent is position-independent: at start the loader reads 1.4 MiB of `.rela.dyn`,
/// one entry per pointer to fix, and never again. Those pages stay resident (counted in RSS)
/// until memory runs short. Packed relocations (RELR) would remove the table but need glibc
/// 2.36; instead the pages are dropped with `MADV_DONTNEED`. They are clean and file-backed, so
/// this is always safe: a page read again is read back from the file.
public enum RelocationPages {
    /// Drops the whole pages of the main executable's `DT_RELA` and `DT_JMPREL` tables; returns
    /// how many bytes were given back (0 where the executable has none, or on any doubt).
    @discardableResult
    public static func release() -> Int {
        tables().reduce(0) { $0 + dropWholePages(of: $1) }
    }

    /// The relocation tables that lie inside a read-only segment loaded from the file: dropping a
    /// page of writable or anonymous memory would lose what was written there.
    static func tables() -> [UnsafeRawBufferPointer] {
        // The executable's program headers, from the auxiliary vector the kernel gave it.
        guard let auxiliary = try? FileReader.read("/proc/self/auxv") else { return [] }
        var vector: [UInt64: UInt64] = [:]
        auxiliary.withUnsafeBytes { bytes in
            for offset in stride(from: 0, to: bytes.count - 15, by: 16) {
                vector[bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)] =
                    bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            }
        }
        guard let address = vector[UInt64(AT_PHDR)], let count = vector[UInt64(AT_PHNUM)],
            let first = UnsafePointer<Elf64_Phdr>(bitPattern: UInt(address))
        else { return [] }
        let headers = UnsafeBufferPointer(start: first, count: Int(count))
        // Where the executable was loaded: its headers' address, less where they say they are.
        guard let own = headers.first(where: { $0.p_type == PT_PHDR }),
            let dynamic = headers.first(where: { $0.p_type == PT_DYNAMIC })
        else { return [] }
        let bias = UInt(address) &- UInt(own.p_vaddr)
        guard let start = UnsafePointer<Elf64_Dyn>(bitPattern: bias &+ UInt(dynamic.p_vaddr)) else { return [] }
        var tables: [Int64: UInt] = [:]
        var entry = start
        while entry.pointee.d_tag != DT_NULL {
            tables[entry.pointee.d_tag] = UInt(entry.pointee.d_un.d_ptr)
            entry += 1
        }
        var found: [UnsafeRawBufferPointer] = []
        for (addressTag, sizeTag) in [(Int64(DT_RELA), Int64(DT_RELASZ)), (Int64(DT_JMPREL), Int64(DT_PLTRELSZ))] {
            guard let table = tables[addressTag], let size = tables[sizeTag], size > 0 else { continue }
            // glibc's loader rewrites these addresses in place, adding the load bias; a static
            // executable's own start-up code leaves them as linked.
            let start = table < bias ? table &+ bias : table
            let inReadOnlyFile = headers.contains { segment in
                segment.p_type == PT_LOAD && segment.p_flags & UInt32(PF_W) == 0
                    && start >= bias &+ UInt(segment.p_vaddr)
                    && start &+ size <= bias &+ UInt(segment.p_vaddr) &+ UInt(segment.p_filesz)
            }
            if inReadOnlyFile {
                found.append(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: start), count: Int(size)))
            }
        }
        return found
    }

    private static func dropWholePages(of table: UnsafeRawBufferPointer) -> Int {
        guard let base = table.baseAddress else { return 0 }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let address = UInt(bitPattern: base)
        let first = (address + page - 1) / page * page
        let end = (address + UInt(table.count)) / page * page
        guard end > first, let start = UnsafeMutableRawPointer(bitPattern: first) else { return 0 }
        return madvise(start, Int(end - first), MADV_DONTNEED) == 0 ? Int(end - first) : 0
    }
}
