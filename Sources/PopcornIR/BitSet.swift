/// A fixed-size set of small integers.
struct BitSet: Equatable {
    private var words: [UInt64]

    init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

    func contains(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }
    mutating func insert(_ i: Int) { words[i >> 6] |= 1 << UInt64(i & 63) }
    mutating func remove(_ i: Int) { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
    mutating func formUnion(_ other: BitSet) { for i in words.indices { words[i] |= other.words[i] } }
    mutating func subtract(_ other: BitSet) { for i in words.indices { words[i] &= ~other.words[i] } }
    mutating func formIntersection(_ other: BitSet) { for i in words.indices { words[i] &= other.words[i] } }

    /// The number of members.
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The members, ascending.
    var elements: [Int] {
        var result: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { result.append(w * 64 + bit) }
        }
        return result
    }
}
