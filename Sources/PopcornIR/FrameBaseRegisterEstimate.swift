import CLLVM

/// aarch64: whether LLVM's local stack slot allocation can give any load or store of a function a
/// *virtual base register* (the hidden state `FrameAddressIsolation` exists for), decided from the
/// IR the way that pass decides it, and conservatively.
///
/// The pass (LLVM 19 `LocalStackSlotAllocation`, asking `AArch64RegisterInfo::needsFrameBaseReg`)
/// lays the frame's stack objects out one after another in frame-index order, each at a multiple
/// of its alignment, and then, for every load or store that names a stack object, estimates the
/// access's offset from the stack pointer as *(distance of the object from the end of that block)
/// + 128 + the access's immediate*. The frame-pointer estimate subtracts 320 more and never fits an
/// immediate, so the stack-pointer estimate decides: an access whose estimate fits the
/// instruction's immediate needs no base register. For a scaled load or store of 1, 2, 4 or 8 bytes
/// that is any multiple of the access size up to 4095 times it; anything else must fit the
/// unscaled form's −256…255.
///
/// So no access of a function can get a base register when
/// * every stack object is aligned to at least 8 bytes (`prepare` raises the alignment of the
///   function's allocas): every distance is then a multiple of 8, and an access with an IR alignment
///   of at least its size has an immediate that is a multiple of its size, so its estimate is too;
/// * the frame's stack objects, each rounded up to 8, plus 128, plus `temporarySlack` for objects
///   instruction selection might add, stay within 4095 bytes (the smallest scaled limit);
/// * every load and store of a stack object moves 1, 2, 4 or 8 bytes with at least that alignment,
///   and nothing else addresses one — memory intrinsics (expanded into loads and stores of any
///   offset and size), `va_start`/`va_copy`, atomics, inline assembly with memory operands; and the
///   function has no vector, 128-bit or aggregate-returning values that instruction selection
///   could put in stack temporaries of its own.
/// Anything else keeps the isolation. Measured on Lua: most functions qualify, and the aarch64 code
/// (whose size every ISA's binary pays, since each function's slot is as large as its largest
/// version) lost one address computation per stack access in them.
struct FrameBaseRegisterEstimate {
    /// The data layout the sizes come from (the module's, aarch64).
    let dataLayout: LLVMTargetDataRef

    /// Room left for stack objects instruction selection may add (none in scalar code).
    static let temporarySlack: UInt64 = 512
    /// The smallest scaled immediate limit (byte loads and stores: 4095).
    static let scaledLimit: UInt64 = 4095
    /// What the estimate adds for spill slots.
    static let spillAllowance: UInt64 = 128
    /// The stack-object alignment that keeps every estimate a multiple of the access size.
    static let objectAlignment: UInt32 = 8

    /// Whether `function` could get a virtual base register (then its accesses are isolated).
    func mayNeedBaseRegister(_ function: LLVMValueRef) -> Bool {
        guard let entry = LLVMGetEntryBasicBlock(function) else { return false }
        var frameBytes: UInt64 = 0
        for instruction in IR.instructions(of: function) {
            if Self.hasWideOrVectorValue(instruction) { return true }
            if LLVMIsAAllocaInst(instruction) != nil {
                guard LLVMGetInstructionParent(instruction) == entry,
                      let count = LLVMIsAConstantInt(LLVMGetOperand(instruction, 0)!) else { return true }
                let size = LLVMABISizeOfType(dataLayout, LLVMGetAllocatedType(instruction)) * LLVMConstIntGetZExtValue(count)
                let alignment = UInt64(max(LLVMGetAlignment(instruction), Self.objectAlignment))
                frameBytes += (size + alignment - 1) / alignment * alignment
                continue
            }
            if addressesStackObjectUnsafely(instruction) { return true }
        }
        return frameBytes + Self.spillAllowance + Self.temporarySlack > Self.scaledLimit
    }

    /// Raises every alloca of `function` to `objectAlignment` (what the estimate assumes).
    func prepare(_ function: LLVMValueRef) {
        for instruction in IR.instructions(of: function)
        where LLVMIsAAllocaInst(instruction) != nil && LLVMGetAlignment(instruction) < Self.objectAlignment {
            LLVMSetAlignment(instruction, Self.objectAlignment)
        }
    }

    /// An access to a stack object the estimate cannot vouch for.
    private func addressesStackObjectUnsafely(_ instruction: LLVMValueRef) -> Bool {
        if LLVMIsALoadInst(instruction) != nil || LLVMIsAStoreInst(instruction) != nil {
            let isLoad = LLVMIsALoadInst(instruction) != nil
            let address = LLVMGetOperand(instruction, isLoad ? 0 : 1)!
            guard FrameAddressIsolation.isFrameAddress(address) else { return false }
            let type = isLoad ? LLVMTypeOf(instruction)! : LLVMTypeOf(LLVMGetOperand(instruction, 0)!)!
            let size = LLVMStoreSizeOfType(dataLayout, type)
            return ![1, 2, 4, 8].contains(size) || UInt64(LLVMGetAlignment(instruction)) < size
        }
        if LLVMIsACallInst(instruction) != nil {
            if IR.isInlineAsmCall(instruction) { return Self.hasMemoryOperand(instruction) }
            // Memory intrinsics and va_start/va_copy on a stack object.
            return FrameAddressIsolation.addressOperands(of: instruction).contains {
                FrameAddressIsolation.isFrameAddress(LLVMGetOperand(instruction, $0)!)
            }
        }
        // Atomics on a stack object take no immediate; keep them simple to reason about.
        if LLVMIsAAtomicRMWInst(instruction) != nil || LLVMIsAAtomicCmpXchgInst(instruction) != nil {
            return FrameAddressIsolation.isFrameAddress(LLVMGetOperand(instruction, 0)!)
        }
        return false
    }

    /// Vector, wider-than-64-bit and aggregate values: what instruction selection may spill to
    /// stack temporaries (vector element access, 128-bit splits, returns it cannot lower).
    private static func hasWideOrVectorValue(_ instruction: LLVMValueRef) -> Bool {
        func wide(_ type: LLVMTypeRef) -> Bool {
            switch LLVMGetTypeKind(type) {
            case LLVMVectorTypeKind, LLVMScalableVectorTypeKind, LLVMStructTypeKind, LLVMArrayTypeKind,
                 LLVMFP128TypeKind, LLVMX86_FP80TypeKind, LLVMPPC_FP128TypeKind:
                return true
            case LLVMIntegerTypeKind:
                return LLVMGetIntTypeWidth(type) > 64
            default:
                return false
            }
        }
        if LLVMIsAAllocaInst(instruction) != nil { return false }   // its allocated type is the frame's business
        if wide(LLVMTypeOf(instruction)) { return true }
        for index in 0..<LLVMGetNumOperands(instruction) {
            if let operand = LLVMGetOperand(instruction, UInt32(index)), LLVMIsABasicBlock(operand) == nil,
               LLVMIsAFunction(operand) == nil, wide(LLVMTypeOf(operand)) { return true }
        }
        return false
    }

    /// Whether an inline-assembly call has a memory operand (`m`, `=*m`, `+m`, …): instruction
    /// selection may then put a value in a stack temporary for it.
    private static func hasMemoryOperand(_ call: LLVMValueRef) -> Bool {
        guard let asm = LLVMGetCalledValue(call) else { return true }
        var length = 0
        guard let text = LLVMGetInlineAsmConstraintString(asm, &length) else { return true }
        let constraints = String(decoding: UnsafeRawBufferPointer(start: text, count: length), as: UTF8.self)
        for token in constraints.split(separator: ",") {
            if token.contains("{") { continue }     // a named register or a clobber
            if token.drop(while: { "=+&*".contains($0) }).contains("m") { return true }
        }
        return false
    }
}
