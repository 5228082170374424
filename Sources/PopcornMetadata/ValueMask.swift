/// The live values of a call site as a bit mask over a sequence its whole function shares
/// (`.popcorn.meta` version 5, docs/METADATA.md "Value sequences and masks").
///
/// The sites of one function list mostly the same stack slots, in the same order, so one
/// sequence that holds every site's list as a subsequence is barely longer than the longest list,
/// and each site then needs one bit per sequence entry instead of an index per value. The order
/// of a site's values is kept exactly: the runtime pairs values across ISAs by position, and
/// derived pointers name their base by position.
public enum ValueMask {
    /// A sequence that holds every list as a subsequence (entries are live-value record indices,
    /// so non-negative).
    /// When the lists agree on one order of their values (the usual case: a function's stack
    /// slots in frame order) that order is the sequence, each value once. Otherwise lists are
    /// merged in turn; one that already fits adds nothing, and for the others the shortest
    /// common supersequence of the sequence so far and the list replaces it.
    public static func sequence(covering lists: [[Int]]) -> [Int] {
        if let order = commonOrder(lists) { return order }
        var sequence: [Int] = []
        for list in lists where !embeds(list, in: sequence) {
            sequence = shortestCommonSupersequence(sequence, list)
        }
        return sequence
    }

    /// The mask of `list` over `sequence`: `(sequence.count + 7) / 8` bytes, bit `j % 8` (least
    /// significant first) of byte `j / 8` set when entry `j` is one of the list's values.
    /// Entries are matched leftmost first, which finds an embedding whenever there is one.
    /// - Precondition: `list` is a subsequence of `sequence`.
    public static func bits(of list: [Int], in sequence: [Int]) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: (sequence.count + 7) / 8)
        var j = 0
        for value in list {
            while sequence[j] != value { j += 1 }
            mask[j / 8] |= 1 << UInt8(j % 8)
            j += 1
        }
        return mask
    }

    /// The entries of `sequence` the mask selects, in order (the inverse of `bits(of:in:)`), or
    /// nil when the mask is too short or selects an entry past the sequence's end.
    public static func select<S: RandomAccessCollection>(_ mask: S, from sequence: [Int]) -> [Int]? where S.Element == UInt8, S.Index == Int {
        guard mask.count == (sequence.count + 7) / 8 else { return nil }
        var list: [Int] = []
        for (byteIndex, byte) in mask.enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << UInt8(bit)) != 0 {
                let j = byteIndex * 8 + bit
                guard j < sequence.count else { return nil }
                list.append(sequence[j])
            }
        }
        return list
    }

    /// Every value of the lists once, in an order each list follows, or nil when there is none
    /// (a list repeats a value, or two lists order two values differently): a topological order
    /// of "comes right before in some list".
    static func commonOrder(_ lists: [[Int]]) -> [Int]? {
        // Values are small indices (live-value records), so ranks live in arrays, not hash
        // tables: this runs for every function of a program at link time.
        var limit = -1
        for list in lists { for value in list where value > limit { limit = value } }
        guard limit >= 0 else { return [] }
        var rank = [Int32](repeating: -1, count: limit + 1), lastList = rank
        var values: [Int] = []
        for (n, list) in lists.enumerated() {
            for value in list {
                guard lastList[value] != Int32(n) else { return nil }
                lastList[value] = Int32(n)
                if rank[value] < 0 {
                    rank[value] = Int32(values.count)
                    values.append(value)
                }
            }
        }
        let n = values.count
        var successors = [[Int32]](repeating: [], count: n), predecessors = [Int32](repeating: 0, count: n)
        for list in lists {
            for (a, b) in zip(list, list.dropFirst()) {
                let from = Int(rank[a]), to = rank[b]
                if !successors[from].contains(to) {
                    successors[from].append(to)
                    predecessors[Int(to)] += 1
                }
            }
        }
        // The earliest-seen ready value first, so lists that share no value follow one another.
        var ready = (0..<n).filter { predecessors[$0] == 0 }, order: [Int] = []
        order.reserveCapacity(n)
        while let first = ready.indices.min(by: { ready[$0] < ready[$1] }) {
            let from = ready.remove(at: first)
            order.append(values[from])
            for to in successors[from] {
                predecessors[Int(to)] -= 1
                if predecessors[Int(to)] == 0 { ready.append(Int(to)) }
            }
        }
        return order.count == n ? order : nil
    }

    /// Whether `list` is a subsequence of `sequence` (greedy, leftmost).
    static func embeds(_ list: [Int], in sequence: [Int]) -> Bool {
        var j = 0
        for value in list {
            while j < sequence.count && sequence[j] != value { j += 1 }
            if j == sequence.count { return false }
            j += 1
        }
        return true
    }

    /// The shortest sequence holding both `a` and `b` as subsequences, through their longest
    /// common subsequence. Past a few million table cells (a function with thousands of distinct
    /// slots) `b` is appended instead: still a supersequence, only longer.
    static func shortestCommonSupersequence(_ a: [Int], _ b: [Int]) -> [Int] {
        let n = a.count, m = b.count
        guard n > 0 else { return b }
        guard n * m <= 4_000_000 else { return a + b }
        // lcs[i * (m + 1) + j]: length of the longest common subsequence of a[i...] and b[j...].
        var lcs = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i * (m + 1) + j] = a[i] == b[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1
                    : max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1])
            }
        }
        var merged: [Int] = []
        merged.reserveCapacity(n + m - Int(lcs[0]))
        var i = 0, j = 0
        while i < n && j < m {
            if a[i] == b[j] {
                merged.append(a[i]); i += 1; j += 1
            } else if lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1] {
                merged.append(a[i]); i += 1
            } else {
                merged.append(b[j]); j += 1
            }
        }
        merged += a[i...]
        merged += b[j...]
        return merged
    }
}
