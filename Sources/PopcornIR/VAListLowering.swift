import CLLVM

/// x86_64 pass 3: makes clang's inline aarch64 `va_arg` code read x86_64 arguments.
///
/// Both ABIs save the argument registers in a save area and keep an overflow pointer for the
/// stack; they only describe the cursors differently. x86_64's `va_list` is
/// `{ i32 gp_offset, i32 fp_offset, ptr overflow_arg_area, ptr reg_save_area }` with 6 integer
/// registers (48 bytes) followed by 8 XMM registers (16 bytes each) in the save area; aarch64's is
/// `{ ptr __stack, ptr __gr_top, ptr __vr_top, i32 __gr_offs, i32 __vr_offs }` with negative
/// offsets from the end of each register block. Each `llvm.va_start(ap)` becomes a native
/// `va_start` into a scratch area followed by the conversion into `ap`:
///
///     __stack   = overflow_arg_area
///     __gr_top  = reg_save_area + 48
///     __vr_top  = reg_save_area + 176
///     __gr_offs = gp_offset - 48
///     __vr_offs = fp_offset - 176
///
/// `llvm.va_copy` becomes a 32-byte copy (the aarch64 `va_list` size); `llvm.va_end` stays a no-op.
struct VAListLowering {
    /// Rewrites the module; returns the number of intrinsic calls rewritten.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let i8 = LLVMInt8TypeInContext(context)!
        let i32 = LLVMInt32TypeInContext(context)!
        let i64 = LLVMInt64TypeInContext(context)!
        let ptr = LLVMPointerTypeInContext(context, 0)!
        var rewritten = 0
        var dead: [LLVMValueRef] = []
        var replacedDeclarations: [LLVMValueRef] = []

        func at(_ base: LLVMValueRef, _ offset: Int) -> LLVMValueRef {
            if offset == 0 { return base }
            var index: [LLVMValueRef?] = [LLVMConstInt(i64, UInt64(offset), 0)]
            return LLVMBuildInBoundsGEP2(builder.ref, i8, base, &index, 1, "")!
        }

        for call in IR.calls(in: module) {
            let name = IR.calleeName(of: call) ?? ""
            if name.hasPrefix("llvm.va_start") {
                let ap = LLVMGetOperand(call, 0)!
                let function = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call))!
                // The scratch x86_64 va_list lives in the entry block so it is a static alloca.
                let entry = LLVMGetEntryBasicBlock(function)!
                if let first = LLVMGetFirstInstruction(entry) { builder.position(before: first) }
                else { builder.position(atEndOf: entry) }
                LLVMSetCurrentDebugLocation2(builder.ref, nil)
                let scratch = LLVMBuildAlloca(builder.ref, LLVMArrayType2(i8, 24), "popcorn.x86.va_list")!
                LLVMSetAlignment(scratch, 16)
                LLVMSetOperand(call, 0, scratch)

                builder.position(after: call)
                builder.takeDebugLocation(from: call)
                let gpOffset = LLVMBuildLoad2(builder.ref, i32, scratch, "gp_offset")!
                let fpOffset = LLVMBuildLoad2(builder.ref, i32, at(scratch, 4), "fp_offset")!
                let overflow = LLVMBuildLoad2(builder.ref, ptr, at(scratch, 8), "overflow_arg_area")!
                let saveArea = LLVMBuildLoad2(builder.ref, ptr, at(scratch, 16), "reg_save_area")!
                LLVMBuildStore(builder.ref, overflow, ap)
                LLVMBuildStore(builder.ref, at(saveArea, 48), at(ap, 8))
                LLVMBuildStore(builder.ref, at(saveArea, 176), at(ap, 16))
                LLVMBuildStore(builder.ref, LLVMBuildSub(builder.ref, gpOffset, LLVMConstInt(i32, 48, 0), ""),
                               at(ap, 24))
                LLVMBuildStore(builder.ref, LLVMBuildSub(builder.ref, fpOffset, LLVMConstInt(i32, 176, 0), ""),
                               at(ap, 28))
                rewritten += 1
            } else if name.hasPrefix("llvm.va_copy") {
                builder.position(before: call)
                builder.takeDebugLocation(from: call)
                let destination = LLVMGetOperand(call, 0)!
                let source = LLVMGetOperand(call, 1)!
                LLVMBuildMemCpy(builder.ref, destination, 8, source, 8, LLVMConstInt(i64, 32, 0))
                dead.append(call)
                replacedDeclarations.append(LLVMGetCalledValue(call)!)
                rewritten += 1
            }
        }
        for call in dead { LLVMInstructionEraseFromParent(call) }
        IR.deleteUnusedDeclarations(replacedDeclarations)
        return rewritten
    }
}
