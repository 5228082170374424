import CLLVM

/// Portable pass (before migration points): folds conditional branches on constants and deletes
/// the blocks no path from the entry reaches.
///
/// At -O0 clang keeps `br i1 false` around the arms of constant conditions (musl's `isnan` and
/// `isinf` pick their float, double or long double arm with `sizeof`). The two back ends do not
/// treat such dead arms alike: AArch64 selects `optnone` functions with GlobalISel, which drops
/// unreachable blocks, x86_64 keeps them. A call in a dead arm then had a stackmap on one ISA only,
/// and the link failed ("call site … exists on x86_64 but not on aarch64"; cJSON's default CMake
/// build). Removing the dead code from the one IR both ISAs lower makes them agree, and keeps
/// migration points and stackmaps out of code that never runs.
///
/// Pre: a module as the frontend made it. Post: no conditional `br` or `switch` on a constant,
/// every block of every function reachable from its entry, phis naming only live predecessors.
struct DeadBranchRemoval {
    /// Returns the number of blocks deleted.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let builder = IRBuilder(context: LLVMGetModuleContext(module))
        var deleted = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for block in CFGEditing.blocks(of: function) { fold(block, builder: builder) }
            deleted += removeUnreachable(in: function, builder: builder)
        }
        return deleted
    }

    /// The block's terminator, if it branches on a constant, becomes a plain `br` to the target
    /// taken; the other successors lose this block from their phis.
    private func fold(_ block: LLVMBasicBlockRef, builder: borrowing IRBuilder) {
        guard let terminator = LLVMGetBasicBlockTerminator(block) else { return }
        let taken: LLVMBasicBlockRef
        if LLVMIsABranchInst(terminator) != nil, LLVMIsConditional(terminator) != 0 {
            guard let condition = LLVMGetCondition(terminator), LLVMIsAConstantInt(condition) != nil else { return }
            taken = LLVMGetSuccessor(terminator, LLVMConstIntGetZExtValue(condition) != 0 ? 0 : 1)
        } else if LLVMIsASwitchInst(terminator) != nil, LLVMGetNumSuccessors(terminator) > 1 {
            // Operands: condition, default destination, then (case value, destination) pairs.
            guard let condition = LLVMGetOperand(terminator, 0), LLVMIsAConstantInt(condition) != nil else { return }
            let value = LLVMConstIntGetZExtValue(condition)
            var target = LLVMGetSwitchDefaultDest(terminator)!
            var operand: UInt32 = 2
            while operand + 1 < UInt32(LLVMGetNumOperands(terminator)) {
                if LLVMConstIntGetZExtValue(LLVMGetOperand(terminator, operand)) == value {
                    target = LLVMValueAsBasicBlock(LLVMGetOperand(terminator, operand + 1))
                    break
                }
                operand += 2
            }
            taken = target
        } else {
            return
        }
        var dropped: [LLVMBasicBlockRef] = []
        for i in 0..<LLVMGetNumSuccessors(terminator) {
            let successor = LLVMGetSuccessor(terminator, i)!
            if successor != taken && !dropped.contains(successor) { dropped.append(successor) }
        }
        builder.position(before: terminator)
        LLVMBuildBr(builder.ref, taken)
        LLVMInstructionEraseFromParent(terminator)
        for successor in dropped { Self.removePhiIncoming(from: block, in: successor, builder: builder) }
        Self.keepOneIncoming(from: block, in: taken, builder: builder)
    }

    /// A switch with several cases to one block gave its phis one entry per edge; one edge is left.
    private static func keepOneIncoming(from predecessor: LLVMBasicBlockRef, in block: LLVMBasicBlockRef,
                                        builder: borrowing IRBuilder) {
        guard let phi = CFGEditing.phis(of: block).first,
              (0..<LLVMCountIncoming(phi)).filter({ LLVMGetIncomingBlock(phi, $0) == predecessor }).count > 1 else { return }
        CFGEditing.rebuildPhis(in: block, naming: predecessor, builder: builder) { incoming in
            var kept = false
            return incoming.filter { edge in
                guard edge.block == predecessor else { return true }
                defer { kept = true }
                return !kept
            }.map { ($0.value, $0.block) }
        }
    }

    /// Deletes the blocks not reachable from the entry; returns how many.
    private func removeUnreachable(in function: LLVMValueRef, builder: borrowing IRBuilder) -> Int {
        let blocks = CFGEditing.blocks(of: function)
        guard let entry = blocks.first else { return 0 }
        var reachable: Set<UnsafeMutableRawPointer> = [UnsafeMutableRawPointer(entry)]
        var work = [entry]
        while let block = work.popLast() {
            for successor in CFGEditing.successors(of: block) where reachable.insert(UnsafeMutableRawPointer(successor)).inserted {
                work.append(successor)
            }
        }
        let dead = blocks.filter { !reachable.contains(UnsafeMutableRawPointer($0)) }
        if dead.isEmpty { return 0 }
        for block in dead {
            for successor in CFGEditing.successors(of: block) where reachable.contains(UnsafeMutableRawPointer(successor)) {
                Self.removePhiIncoming(from: block, in: successor, builder: builder)
            }
        }
        // Values defined in dead blocks may be used by other dead blocks (never by live ones: a
        // dead block dominates nothing live), so they are cut loose before the blocks go.
        for block in dead {
            for instruction in CFGEditing.instructions(of: block) where LLVMGetFirstUse(instruction) != nil {
                LLVMReplaceAllUsesWith(instruction, LLVMGetPoison(LLVMTypeOf(instruction)))
            }
        }
        for block in dead { LLVMDeleteBasicBlock(block) }
        return dead.count
    }

    /// Rebuilds the phis of `block` without the incoming edges from `predecessor`.
    static func removePhiIncoming(from predecessor: LLVMBasicBlockRef, in block: LLVMBasicBlockRef,
                                  builder: borrowing IRBuilder) {
        CFGEditing.rebuildPhis(in: block, naming: predecessor, builder: builder) { incoming in
            incoming.filter { $0.block != predecessor }.map { ($0.value, $0.block) }
        }
    }
}
