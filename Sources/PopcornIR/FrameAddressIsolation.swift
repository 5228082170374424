import CLLVM

/// aarch64 only: makes every memory access to a stack object in a function with stackmaps take its
/// address from a register computed right before the access, so no load or store refers to a
/// frame index.
///
/// Why: aarch64's local stack slot allocation (a machine pass that cannot be turned off) gives
/// loads and stores whose frame offset it estimates to be out of immediate range a *virtual base
/// register* (`sub x19, x29, #104`), defined once in the entry block and used across the whole
/// function. Its estimate is pessimistic (it assumes every callee-saved register is spilled and
/// 128 bytes of spill slots), so with the slots `StackSlotDemotion` adds most migratable functions
/// got one. The register allocator keeps it in a callee-saved register across calls, where no
/// stackmap describes it: after the stack is rebuilt it still points into the old frame (hidden
/// state, docs/HAZARDS.md, H3). The pass only considers loads and stores that name a frame index;
/// an access through a register is not its business. An empty inline-asm copy (`"=r,0"`) of the
/// address is opaque to instruction selection, so the frame address is materialised into a
/// register in the access's own block (`add x8, x29, #off`) and the access uses that register.
/// The copy sits right before the access, so the materialised address never lives across a call.
///
/// Only functions whose frame could get such a register are rewritten (`FrameBaseRegisterEstimate`,
/// which mirrors the pass's own estimate): the copy costs one instruction per stack access, and the
/// aarch64 code's size is what every ISA's binary pays for each function (on Lua, isolating every
/// function made the text of both binaries 70 KB larger). The others get their allocas aligned to
/// 8 bytes, which the estimate relies on.
struct FrameAddressIsolation {
    /// Rewrites every function of `module` that contains a stackmap and could get a frame base
    /// register; returns the number of pointer operands rewritten.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let estimate = FrameBaseRegisterEstimate(dataLayout: LLVMGetModuleDataLayout(module)!)
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let pointer = LLVMPointerTypeInContext(context, 0)!
        var parameters: [LLVMTypeRef?] = [pointer]
        let copyType = LLVMFunctionType(pointer, &parameters, 1, 0)!
        let copy = "=r,0"
        let asm = LLVMGetInlineAsm(copyType, "", 0, copy, copy.utf8.count, 0, 0, LLVMInlineAsmDialectATT, 0)!
        var rewritten = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) && StackMaps.hasRecords(function) {
            guard estimate.mayNeedBaseRegister(function) else {
                estimate.prepare(function)
                continue
            }
            for instruction in IR.instructions(of: function) {
                for operand in Self.addressOperands(of: instruction)
                where Self.isFrameAddress(LLVMGetOperand(instruction, operand)!) {
                    builder.position(before: instruction)
                    builder.takeDebugLocation(from: instruction)
                    var arguments: [LLVMValueRef?] = [LLVMGetOperand(instruction, operand)]
                    let isolated = LLVMBuildCall2(builder.ref, copyType, asm, &arguments, 1, "popcorn.frame.address")!
                    LLVMSetOperand(instruction, operand, isolated)
                    rewritten += 1
                }
            }
        }
        return rewritten
    }

    /// The operand indices of `instruction` that instruction selection may fold into a load or
    /// store addressing mode: the address of a load, store or atomic, and the pointer arguments of
    /// the memory intrinsics, which are expanded inline into loads and stores.
    static func addressOperands(of instruction: LLVMValueRef) -> [UInt32] {
        if LLVMIsALoadInst(instruction) != nil { return [0] }
        if LLVMIsAStoreInst(instruction) != nil { return [1] }
        if LLVMIsAAtomicRMWInst(instruction) != nil || LLVMIsAAtomicCmpXchgInst(instruction) != nil { return [0] }
        guard LLVMIsACallInst(instruction) != nil, let name = IR.calleeName(of: instruction) else { return [] }
        for prefix in ["llvm.memcpy.", "llvm.memmove.", "llvm.memset.", "llvm.memcpy.inline.", "llvm.memset.inline."]
        where name.hasPrefix(prefix) {
            return prefix.hasPrefix("llvm.memset") ? [0] : [0, 1]
        }
        // va_start/va_copy store into (and read) the va_list object on aarch64.
        if name == "llvm.va_start" || name.hasPrefix("llvm.va_start.") || name == "llvm.va_copy"
            || name.hasPrefix("llvm.va_copy.") {
            return Array(0..<UInt32(IR.argumentCount(of: instruction)))
        }
        return []
    }

    /// Whether `value` is a stack object or an address computed from one by GEPs and casts.
    static func isFrameAddress(_ value: LLVMValueRef) -> Bool {
        var current = value
        while true {
            if LLVMIsAAllocaInst(current) != nil { return true }
            if LLVMIsAGetElementPtrInst(current) != nil || LLVMIsABitCastInst(current) != nil
                || LLVMIsAAddrSpaceCastInst(current) != nil {
                current = LLVMGetOperand(current, 0)!
                continue
            }
            return false
        }
    }
}
