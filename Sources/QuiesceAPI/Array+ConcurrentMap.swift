extension Array where Element: Sendable {
    /// `transform` applied to the elements concurrently, at most `limit` at a time, the results in
    /// the elements' order: the fan-out of scripts on an agent and of requests across a fleet.
    ///
    /// A fleet command bounds it by the client's concurrency, so each VM's requests follow one
    /// another on its connection and a 10,000-VM sweep holds a few hundred connections, not
    /// 10,000; a group's phases leave it unbounded, since every member must get its request at once.
    public func concurrentMap<T: Sendable>(
        atMost limit: Int = .max, _ transform: @escaping @Sendable (Element) async -> T
    ) async -> [T] {
        await withTaskGroup(of: (Int, T).self) { group in
            var results = [T?](repeating: nil, count: count)
            var pending = enumerated().makeIterator()
            for _ in 0..<Swift.min(Swift.max(1, limit), count) {
                guard let (index, element) = pending.next() else { break }
                group.addTask { (index, await transform(element)) }
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if let (index, element) = pending.next() { group.addTask { (index, await transform(element)) } }
            }
            return results.map { $0! }
        }
    }
}
