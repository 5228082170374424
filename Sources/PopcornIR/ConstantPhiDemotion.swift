import CLLVM

/// Moves phi nodes that receive a constant from a block containing an instrumented call into a
/// stack slot, before stackmaps are placed.
///
/// Instruction selection materialises a phi's constant input (`xor %ebx, %ebx` for a loop
/// counter starting at 0) wherever it likes in the predecessor block — often before the calls in
/// it — and the register allocator then keeps it in a callee-saved register across those calls,
/// where no stackmap describes it (hidden state, docs/HAZARDS.md, H3; found by the poisoned
/// rewrite mode). After demotion each incoming value is stored by a volatile store right before
/// the predecessor's terminator (after every call in that block) and read back by a volatile load
/// at the top of the phi's block; the slot is an ordinary entry-block alloca, recorded by the
/// stackmaps wherever it is live across a call.
///
/// No call ever lies between the stores and the load (the stores are the predecessors' last
/// instructions before their branches, the load the first of the phi's block), so the slot holds
/// nothing across a call: `StackMaps` leaves these slots out of its records.
///
/// Only phis with such an input are demoted: a constant coming from a block without an
/// instrumented call is materialised in that block, where no call can follow it, and the machine
/// passes that could move it into an earlier block (machine LICM and CSE) are disabled
/// (`LLVMTargets`). Demoting every phi with a constant input put a store and a volatile load of
/// the induction variable into every iteration of loops without any call (the vectorised inner
/// loop of `Examples/matrix`).
struct ConstantPhiDemotion {
    /// Demotes the qualifying phis of `function`, whose instrumented calls are `calls`; returns the
    /// slots it made.
    @discardableResult
    func run(on function: LLVMValueRef, calls: [LLVMValueRef], builder: borrowing IRBuilder) -> [LLVMValueRef] {
        let callBlocks = Set(calls.map { UnsafeRawPointer(LLVMGetInstructionParent($0)!) })
        let phis = IR.instructions(of: function).filter {
            LLVMIsAPHINode($0) != nil && Self.hasConstantInput($0, fromAnyOf: callBlocks)
        }
        guard !phis.isEmpty else { return [] }
        let entry = LLVMGetEntryBasicBlock(function)!
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        var slots: [LLVMValueRef] = []
        for phi in phis {
            let type = LLVMTypeOf(phi)!
            var insertion = LLVMGetFirstInstruction(entry)
            while let i = insertion, LLVMIsAAllocaInst(i) != nil { insertion = LLVMGetNextInstruction(i) }
            if let insertion { builder.position(before: insertion) } else { builder.position(atEndOf: entry) }
            let slot = LLVMBuildAlloca(builder.ref, type, "popcorn.phi")!
            slots.append(slot)
            for index in 0..<LLVMCountIncoming(phi) {
                let block = LLVMGetIncomingBlock(phi, index)!
                builder.position(before: LLVMGetBasicBlockTerminator(block)!)
                LLVMSetVolatile(LLVMBuildStore(builder.ref, LLVMGetIncomingValue(phi, index), slot), 1)
            }
            builder.position(before: CFGEditing.firstNonPhi(of: LLVMGetInstructionParent(phi)!)!)
            let load = LLVMBuildLoad2(builder.ref, type, slot, "popcorn.phi.value")!
            LLVMSetVolatile(load, 1)
            LLVMReplaceAllUsesWith(phi, load)
            LLVMInstructionEraseFromParent(phi)
        }
        return slots
    }

    /// Whether `phi` has a constant input other than `undef`/`poison` (which need no
    /// materialisation) on an edge from one of `blocks`.
    static func hasConstantInput(_ phi: LLVMValueRef, fromAnyOf blocks: Set<UnsafeRawPointer>) -> Bool {
        (0..<LLVMCountIncoming(phi)).contains { index in
            let value = LLVMGetIncomingValue(phi, index)!
            return blocks.contains(UnsafeRawPointer(LLVMGetIncomingBlock(phi, index)!))
                && LLVMIsAConstant(value) != nil && LLVMIsUndef(value) == 0 && LLVMIsPoison(value) == 0
        }
    }
}
