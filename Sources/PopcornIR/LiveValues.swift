import CLLVM

/// Live-value analysis of one function in SSA form.
///
/// Backward dataflow over the CFG: a block's live-out set is the union over its successors of
/// their live-in sets, plus — for phis — the incoming value for *this* predecessor only (a phi
/// operand is used on the edge, not in the phi's block). Tracked values are the function's
/// arguments and every instruction with a result; constants and globals have the same value on
/// every ISA and are not tracked. The values live across a call are those live right after it
/// other than the call's own result: defined before the call and used after it.
struct LiveValues {
    /// Tracked values in definition order (arguments, then instructions in layout order); the
    /// order is also the order values are reported in.
    private(set) var values: [LLVMValueRef] = []
    private var index: [UnsafeRawPointer: Int] = [:]
    private let blocks: [LLVMBasicBlockRef]
    private var liveOut: [BitSet] = []

    init(function: LLVMValueRef) {
        blocks = CFGEditing.blocks(of: function)
        for i in 0..<LLVMCountParams(function) { track(LLVMGetParam(function, i)!) }
        for block in blocks {
            for instruction in CFGEditing.instructions(of: block)
            where LLVMGetTypeKind(LLVMTypeOf(instruction)) != LLVMVoidTypeKind {
                track(instruction)
            }
        }
        solve()
    }

    private mutating func track(_ value: LLVMValueRef) {
        index[UnsafeRawPointer(value)] = values.count
        values.append(value)
    }

    /// The position of a tracked value in `values`, or nil for constants, globals, blocks.
    func position(of value: LLVMValueRef) -> Int? { index[UnsafeRawPointer(value)] }

    private mutating func solve() {
        let count = values.count
        var blockNumber: [UnsafeRawPointer: Int] = [:]
        for (i, block) in blocks.enumerated() { blockNumber[UnsafeRawPointer(block)] = i }
        // Per block: values used before being defined in it (phis excluded), values it defines,
        // and per predecessor the phi operands that flow along the edge from that predecessor.
        var upward = [BitSet](repeating: BitSet(count: count), count: blocks.count)
        var defined = upward
        var edgeUses: [[Int: BitSet]] = Array(repeating: [:], count: blocks.count)
        for (b, block) in blocks.enumerated() {
            for instruction in CFGEditing.instructions(of: block) {
                if LLVMIsAPHINode(instruction) != nil {
                    for i in 0..<LLVMCountIncoming(instruction) {
                        guard let v = position(of: LLVMGetIncomingValue(instruction, i)!),
                              let p = blockNumber[UnsafeRawPointer(LLVMGetIncomingBlock(instruction, i)!)] else { continue }
                        edgeUses[b][p, default: BitSet(count: count)].insert(v)
                    }
                } else {
                    for operand in operands(of: instruction) where !defined[b].contains(operand) {
                        upward[b].insert(operand)
                    }
                }
                if let d = position(of: instruction) { defined[b].insert(d) }
            }
        }
        let successors = blocks.map { CFGEditing.successors(of: $0).compactMap { blockNumber[UnsafeRawPointer($0)] } }
        liveOut = [BitSet](repeating: BitSet(count: count), count: blocks.count)
        var liveIn = upward
        var changed = true
        while changed {
            changed = false
            for b in blocks.indices.reversed() {
                var out = BitSet(count: count)
                for s in successors[b] {
                    out.formUnion(liveIn[s])
                    if let uses = edgeUses[s][b] { out.formUnion(uses) }
                }
                if out != liveOut[b] {
                    liveOut[b] = out
                    var newIn = out
                    newIn.subtract(defined[b])
                    newIn.formUnion(upward[b])
                    liveIn[b] = newIn
                    changed = true
                }
            }
        }
    }

    /// Positions of the tracked values an instruction reads (phis are handled on edges).
    private func operands(of instruction: LLVMValueRef) -> [Int] {
        (0..<LLVMGetNumOperands(instruction)).compactMap { i in
            LLVMGetOperand(instruction, UInt32(i)).flatMap { position(of: $0) }
        }
    }

    /// The values live across each call of `calls` (which must belong to this function), in
    /// definition order, keyed by the call.
    func liveAcross(_ calls: [LLVMValueRef]) -> [UnsafeRawPointer: [LLVMValueRef]] {
        let wanted = Set(calls.map { UnsafeRawPointer($0) })
        var result: [UnsafeRawPointer: [LLVMValueRef]] = [:]
        for (b, block) in blocks.enumerated() {
            let instructions = CFGEditing.instructions(of: block)
            guard instructions.contains(where: { wanted.contains(UnsafeRawPointer($0)) }) else { continue }
            var live = liveOut[b]
            for instruction in instructions.reversed() {
                let own = position(of: instruction)
                if let own { live.remove(own) }
                if wanted.contains(UnsafeRawPointer(instruction)) {
                    result[UnsafeRawPointer(instruction)] = live.elements.map { values[$0] }
                }
                if LLVMIsAPHINode(instruction) == nil {
                    for operand in operands(of: instruction) { live.insert(operand) }
                }
            }
        }
        return result
    }
}
