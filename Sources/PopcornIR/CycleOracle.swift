import CLLVM

/// Answers "does this block lie on a cycle of the control-flow graph that avoids that block?" for
/// one function whose control flow does not change while it is asked.
///
/// Demotion asks it where accesses would run most often: a call on a cycle that avoids a value's
/// definition runs again and again without the value being redefined (a loop the definition is
/// outside of), which makes the value resident in its slot; and a read is not sunk into a block
/// on a cycle avoiding the read's own block, where it would run on every iteration.
/// Per avoided block the answer for all blocks comes from one strongly-connected-components walk
/// (Tarjan's, iterative) of the graph without that block, and is cached: many values share a
/// defining block, and a large function (an interpreter loop) asks thousands of times.
struct CycleOracle {
    private let blocks: [LLVMBasicBlockRef]
    private let index: [UnsafeRawPointer: Int]
    private let successors: [[Int]]
    /// Per avoided block index: each block's cyclic component in the graph without it (-1: none).
    private var cache: [Int: [Int]] = [:]

    init(of function: LLVMValueRef) {
        blocks = CFGEditing.blocks(of: function)
        var index: [UnsafeRawPointer: Int] = [:]
        for (i, block) in blocks.enumerated() { index[UnsafeRawPointer(block)] = i }
        self.index = index
        successors = blocks.map { block in CFGEditing.successors(of: block).compactMap { index[UnsafeRawPointer($0)] } }
    }

    /// Whether `block` lies on a cycle that does not pass through `avoided` (`avoided` itself never does).
    mutating func liesOnCycle(_ block: LLVMBasicBlockRef, avoiding avoided: LLVMBasicBlockRef) -> Bool {
        guard let b = index[UnsafeRawPointer(block)], let a = index[UnsafeRawPointer(avoided)] else { return false }
        return components(without: a)[b] >= 0
    }

    private mutating func components(without avoided: Int) -> [Int] {
        if let known = cache[avoided] { return known }
        let computed = cyclicComponents(without: avoided)
        cache[avoided] = computed
        return computed
    }

    /// Per block, the number of its strongly connected component if that has a cycle (two or
    /// more blocks, or a self-edge) in the graph with block `removed` taken out; -1 otherwise.
    private func cyclicComponents(without removed: Int) -> [Int] {
        let count = blocks.count
        var order = [Int](repeating: -1, count: count)   // discovery index, -1 = unvisited
        var low = [Int](repeating: 0, count: count)
        var onStack = [Bool](repeating: false, count: count)
        var stack: [Int] = []
        var result = [Int](repeating: -1, count: count)
        var counter = 0
        var components = 0
        for root in 0..<count where root != removed && order[root] < 0 {
            // Frames of the iterative depth-first walk: (block, next successor position).
            var walk: [(node: Int, next: Int)] = [(root, 0)]
            order[root] = counter; low[root] = counter; counter += 1
            stack.append(root); onStack[root] = true
            while let top = walk.last {
                let node = top.node
                if top.next < successors[node].count {
                    walk[walk.count - 1].next += 1
                    let next = successors[node][top.next]
                    if next == removed { continue }
                    if order[next] < 0 {
                        order[next] = counter; low[next] = counter; counter += 1
                        stack.append(next); onStack[next] = true
                        walk.append((next, 0))
                    } else if onStack[next] {
                        low[node] = min(low[node], order[next])
                    }
                    continue
                }
                walk.removeLast()
                if let parent = walk.last { low[parent.node] = min(low[parent.node], low[node]) }
                guard low[node] == order[node] else { continue }
                var component: [Int] = []
                while let member = stack.popLast() {
                    onStack[member] = false
                    component.append(member)
                    if member == node { break }
                }
                let cyclic = component.count > 1 || successors[node].contains(node)
                if cyclic {
                    for member in component { result[member] = components }
                    components += 1
                }
            }
        }
        return result
    }
}
