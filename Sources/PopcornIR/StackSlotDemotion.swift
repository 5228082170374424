import CLLVM

/// Moves a value into a stack slot of its own: a store right after the definition and a load
/// before every use.
///
/// Stackmaps describe only values that sit in one general-purpose register or stack slot at
/// the return address. A value the backend must reload after the call (floating-point and
/// vector values, which have no callee-saved registers on x86_64 and only 64-bit halves of
/// them on aarch64) would be described by its reload register, at an offset past the return
/// address, and multi-register values (`i128`, aggregates, `i1`) are not supported at all.
/// After demotion the value is dead across the call and the slot — an entry-block alloca with
/// a fixed frame offset — is recorded instead.
struct StackSlotDemotion {
    /// True if a stackmap can describe `type` as one location at the return address.
    static func isRecordable(_ type: LLVMTypeRef) -> Bool {
        switch LLVMGetTypeKind(type) {
        case LLVMPointerTypeKind: return true
        case LLVMIntegerTypeKind: return [8, 16, 32, 64].contains(LLVMGetIntTypeWidth(type))
        default: return false
        }
    }

    /// Demotes `value` (an argument or instruction of `function`); returns the slot.
    @discardableResult
    func demote(_ value: LLVMValueRef, in function: LLVMValueRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let type = LLVMTypeOf(value)!
        let entry = LLVMGetEntryBasicBlock(function)!
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        if let first = LLVMGetFirstInstruction(entry) { builder.position(before: first) } else { builder.position(atEndOf: entry) }
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
        LLVMBuildStore(builder.ref, value, slot)

        // One load per predecessor block for phi operands: a phi must see a single value per edge source.
        var edgeLoads: [UnsafeRawPointer: LLVMValueRef] = [:]
        for (user, operand) in uses {
            if LLVMIsAPHINode(user) != nil {
                let block = LLVMGetIncomingBlock(user, operand)!
                let load = edgeLoads[UnsafeRawPointer(block)] ?? {
                    builder.position(before: LLVMGetBasicBlockTerminator(block)!)
                    return LLVMBuildLoad2(builder.ref, type, slot, "popcorn.reload")!
                }()
                edgeLoads[UnsafeRawPointer(block)] = load
                LLVMSetOperand(user, operand, load)
            } else {
                builder.position(before: user)
                LLVMSetOperand(user, operand, LLVMBuildLoad2(builder.ref, type, slot, "popcorn.reload")!)
            }
        }
        return slot
    }
}
