import CLLVM

/// Caps the alignment of the frame slots the popcorn passes create (`popcorn.slot*`,
/// `popcorn.phi*`) and of their loads and stores at the stack alignment both ISAs guarantee.
///
/// A slot gets its type's preferred alignment by default, and a vectorised loop's phi of type
/// `<16 x i64>` asks for 128 bytes. Any object aligned beyond the incoming stack alignment forces
/// the function to realign its stack pointer at run time; its frame size is then unknown to the
/// stackmaps (reported as UINT64_MAX) and popcorn-ld has to leave every call site of the
/// function out of the metadata. A slot only parks a value across a call, so 16 bytes is plenty.
struct SlotAlignment {
    /// The stack alignment of the x86_64 and aarch64 psABIs.
    static let stackAlignment: UInt32 = 16

    /// Applies the cap to every defined function of `module`; returns the number of slots changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        var capped = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for slot in IR.instructions(of: function)
            where LLVMIsAAllocaInst(slot) != nil && Self.isPopcornSlot(slot) && LLVMGetAlignment(slot) > Self.stackAlignment {
                LLVMSetAlignment(slot, Self.stackAlignment)
                for user in IR.instructionUsers(of: slot)
                where (LLVMIsALoadInst(user) != nil || LLVMIsAStoreInst(user) != nil)
                    && LLVMGetAlignment(user) > Self.stackAlignment {
                    LLVMSetAlignment(user, Self.stackAlignment)
                }
                capped += 1
            }
        }
        return capped
    }

    static func isPopcornSlot(_ alloca: LLVMValueRef) -> Bool {
        let name = IR.name(of: alloca)
        return name.hasPrefix("popcorn.slot") || name.hasPrefix("popcorn.phi")
    }
}
