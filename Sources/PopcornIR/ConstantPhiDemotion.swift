import CLLVM

/// Moves phi nodes that receive a constant into a stack slot, before stackmaps are placed.
///
/// Instruction selection materialises a phi's constant input (`xor %ebx, %ebx` for a loop
/// counter starting at 0) wherever it likes in the predecessor block — often before the calls in
/// it — and the register allocator then keeps it in a callee-saved register across those calls,
/// where no stackmap describes it (hidden state, DESIGN.md hazard 3; found by the poisoned
/// rewrite mode). After demotion each incoming value is stored by a volatile store right before
/// the predecessor's terminator (after every call in that block) and read back by a volatile load
/// at the top of the phi's block; the slot is an ordinary entry-block alloca, recorded by the
/// stackmaps wherever it is live across a call.
struct ConstantPhiDemotion {
    /// Demotes the qualifying phis of `function`; returns how many.
    @discardableResult
    func run(on function: LLVMValueRef, builder: borrowing IRBuilder) -> Int {
        let phis = IR.instructions(of: function).filter { LLVMIsAPHINode($0) != nil && Self.hasConstantInput($0) }
        guard !phis.isEmpty else { return 0 }
        let entry = LLVMGetEntryBasicBlock(function)!
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        for phi in phis {
            let type = LLVMTypeOf(phi)!
            var insertion = LLVMGetFirstInstruction(entry)
            while let i = insertion, LLVMIsAAllocaInst(i) != nil { insertion = LLVMGetNextInstruction(i) }
            if let insertion { builder.position(before: insertion) } else { builder.position(atEndOf: entry) }
            let slot = LLVMBuildAlloca(builder.ref, type, "popcorn.phi")!
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
        return phis.count
    }

    /// A constant input other than `undef`/`poison` (which need no materialisation).
    static func hasConstantInput(_ phi: LLVMValueRef) -> Bool {
        (0..<LLVMCountIncoming(phi)).contains { index in
            let value = LLVMGetIncomingValue(phi, index)!
            return LLVMIsAConstant(value) != nil && LLVMIsUndef(value) == 0 && LLVMIsPoison(value) == 0
        }
    }
}
