import CLLVM

/// An owning wrapper over `LLVMBuilderRef`, disposed with the value.
struct IRBuilder: ~Copyable {
    let ref: LLVMBuilderRef

    init(context: LLVMContextRef) {
        ref = LLVMCreateBuilderInContext(context)
    }

    deinit { LLVMDisposeBuilder(ref) }

    /// Inserts subsequent instructions right before `instruction`, and before the debug records
    /// (variable locations under -g) attached to it: a phi built at the top of a block must come
    /// before them, or the verifier finds "PHI Node must not have any attached DbgRecords" and
    /// drops the module's debug information.
    func position(before instruction: LLVMValueRef) {
        LLVMPositionBuilderBeforeInstrAndDbgRecords(ref, instruction)
    }

    /// Inserts subsequent instructions right after `instruction`.
    func position(after instruction: LLVMValueRef) {
        if let next = LLVMGetNextInstruction(instruction) {
            LLVMPositionBuilderBefore(ref, next)
        } else {
            LLVMPositionBuilderAtEnd(ref, LLVMGetInstructionParent(instruction))
        }
    }

    /// Inserts subsequent instructions at the end of `block`.
    func position(atEndOf block: LLVMBasicBlockRef) {
        LLVMPositionBuilderAtEnd(ref, block)
    }

    /// Uses the debug location of `instruction` for the instructions built next.
    func takeDebugLocation(from instruction: LLVMValueRef) {
        LLVMSetCurrentDebugLocation2(ref, LLVMInstructionGetDebugLoc(instruction))
    }
}
