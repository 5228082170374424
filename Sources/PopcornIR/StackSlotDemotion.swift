import CLLVM

/// Moves a value into a stack slot of its own: a store right after the definition and a load
/// before every use.
///
/// A value kept in a register across a call is not reliably described by a stackmap placed
/// after the call: the register allocator may put a reload or copy between the call and the
/// stackmap and report that register, at an offset past the return address (floating-point
/// values on x86_64, 128-bit values on aarch64, and pointers copied into argument registers
/// were all observed), and multi-register values (`i128`, aggregates, `i1`) are not supported
/// at all. After demotion the value is dead across the call and the slot — an entry-block
/// alloca with a fixed frame offset — is recorded instead.
struct StackSlotDemotion {
    /// Demotes `value` (an argument or instruction of `function`); returns the slot.
    @discardableResult
    func demote(_ value: LLVMValueRef, in function: LLVMValueRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let type = LLVMTypeOf(value)!
        let entry = LLVMGetEntryBasicBlock(function)!
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        // After the existing allocas, so slots come in the order values were demoted.
        var insertion = LLVMGetFirstInstruction(entry)
        while let i = insertion, LLVMIsAAllocaInst(i) != nil { insertion = LLVMGetNextInstruction(i) }
        if let insertion { builder.position(before: insertion) } else { builder.position(atEndOf: entry) }
        let slot = LLVMBuildAlloca(builder.ref, type, "popcorn.slot")!

        // Uses first: the store added below is a use too.
        var uses: [(user: LLVMValueRef, operand: UInt32)] = []
        var use = LLVMGetFirstUse(value)
        while let u = use {
            let user = LLVMGetUser(u)!
            if LLVMIsAInstruction(user) != nil {
                for i in 0..<UInt32(LLVMGetNumOperands(user)) where LLVMGetOperand(user, i) == value
                && !uses.contains(where: { $0.user == user && $0.operand == i }) {
                    uses.append((user, i))
                }
            }
            use = LLVMGetNextUse(u)
        }

        if LLVMIsAArgument(value) != nil {
            var position = LLVMGetFirstInstruction(entry)
            while let p = position, LLVMIsAAllocaInst(p) != nil { position = LLVMGetNextInstruction(p) }
            if let position { builder.position(before: position) } else { builder.position(atEndOf: entry) }
        } else if LLVMIsAPHINode(value) != nil {
            builder.position(before: CFGEditing.firstNonPhi(of: LLVMGetInstructionParent(value)!)!)
        } else {
            builder.position(after: value)
        }
        // Volatile: otherwise instruction selection forwards the stored value to a reload in the
        // same block and copies the call's return register into another register right after the
        // call — between the call and its stackmap, which then no longer sits at the return address.
        LLVMSetVolatile(LLVMBuildStore(builder.ref, value, slot), 1)

        // One load per predecessor block for phi operands: a phi must see a single value per edge source.
        var edgeLoads: [UnsafeRawPointer: LLVMValueRef] = [:]
        for (user, operand) in uses {
            if LLVMIsAPHINode(user) != nil {
                let block = LLVMGetIncomingBlock(user, operand)!
                let load = edgeLoads[UnsafeRawPointer(block)] ?? {
                    builder.position(before: LLVMGetBasicBlockTerminator(block)!)
                    let load = LLVMBuildLoad2(builder.ref, type, slot, "popcorn.reload")!
                    LLVMSetVolatile(load, 1)
                    return load
                }()
                edgeLoads[UnsafeRawPointer(block)] = load
                LLVMSetOperand(user, operand, load)
            } else {
                builder.position(before: user)
                let load = LLVMBuildLoad2(builder.ref, type, slot, "popcorn.reload")!
                LLVMSetVolatile(load, 1)
                LLVMSetOperand(user, operand, load)
            }
        }
        return slot
    }
}
