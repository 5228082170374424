import CLLVM
import PopcornSupport

/// Part of `StackMaps` (portable) and of the per-ISA lowering: a used scalar result of an
/// instrumented call stays in its return register until the stackmap after the call has been
/// passed, without a trip through a stack slot.
///
/// The record of a stackmap is at the return address only if nothing is scheduled between the call
/// and the stackmap, and the copy of a result out of its return register (made when the result is
/// needed after something else has used that register) would be. Storing every used result to a
/// slot right after the stackmap and reading it back kept that copy out, at a store and a load per
/// call: 1.5 % of Lua's instructions and 1 % of SQLite's in `make bench`'s workloads. Instead the
/// result now goes through a *pin* right after the stackmap: in the portable IR a call of
/// `__popcorn.result(T value)` returning the value, per ISA an empty `sideeffect` inline-asm
/// statement whose input and output are the value in the return register (`={eax},0`,
/// `={xmm0},0`, `={x0},0`, …). The return register is then the value's only home from the call to
/// the pin, so any copy out of it goes after the stackmap (or disappears); `sideeffect` keeps the
/// statement after the stackmap (the callee-saved barrier, which leaves return registers alone,
/// may come between the two); `convergent` keeps the block from being duplicated, as for the barrier.
/// Every other use of the result takes the pin's value, which is demoted like any other value if it
/// is live across a later call.
///
/// Only results every ISA returns in one register of a kind both have: 32- and 64-bit integers,
/// pointers, `float` and `double`. Other used results (`i1`, `i8`, `i16`, `i128`, `fp128`,
/// aggregates) keep the store and read back (`StackSlotDemotion`).
enum CallResultPin {
    /// The placeholder function of the portable IR.
    static let placeholder = "__popcorn.result"

    /// Whether a result of `type` can be pinned on every ISA.
    static func isPinnable(_ type: LLVMTypeRef) -> Bool {
        switch LLVMGetTypeKind(type) {
        case LLVMIntegerTypeKind: return [32, 64].contains(LLVMGetIntTypeWidth(type))
        case LLVMPointerTypeKind: return LLVMGetPointerAddressSpace(type) == 0
        case LLVMFloatTypeKind, LLVMDoubleTypeKind: return true
        default: return false
        }
    }

    /// Routes every use of `call`'s result through a placeholder right after it; returns the
    /// placeholder. The stackmap inserted after `call` later goes between the two.
    static func insert(after call: LLVMValueRef, module: LLVMModuleRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let type = LLVMTypeOf(call)!
        var parameters: [LLVMTypeRef?] = [type]
        let functionType = LLVMFunctionType(type, &parameters, 1, 0)!
        let context = LLVMGetModuleContext(module)!
        let callee = LLVMGetNamedFunction(module, placeholder)
            ?? LLVMAddFunction(module, placeholder, LLVMFunctionType(LLVMVoidTypeInContext(context), nil, 0, 1))!
        builder.position(after: call)
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        var arguments: [LLVMValueRef?] = [call]
        let pin = LLVMBuildCall2(builder.ref, functionType, callee, &arguments, 1, "popcorn.result")!
        LLVMReplaceAllUsesWith(call, pin)
        LLVMSetOperand(pin, 0, call)   // the replacement above renamed the pin's own operand too
        return pin
    }

    /// Whether `instruction` calls the placeholder.
    static func isPlaceholder(_ instruction: LLVMValueRef) -> Bool {
        LLVMIsACallInst(instruction) != nil && IR.calleeName(of: instruction) == placeholder
    }

    /// The register `isa` returns a value of `type` in, as an inline-asm register constraint.
    static func returnRegister(for type: LLVMTypeRef, isa: ISA) -> String {
        let kind = LLVMGetTypeKind(type)
        let wide = kind == LLVMPointerTypeKind || (kind == LLVMIntegerTypeKind && LLVMGetIntTypeWidth(type) == 64)
        switch (isa, kind) {
        case (.x86_64, LLVMFloatTypeKind), (.x86_64, LLVMDoubleTypeKind): return "{xmm0}"
        case (.x86_64, _): return wide ? "{rax}" : "{eax}"
        case (.aarch64, LLVMFloatTypeKind): return "{s0}"
        case (.aarch64, LLVMDoubleTypeKind): return "{d0}"
        case (.aarch64, _): return wide ? "{x0}" : "{w0}"
        }
    }

    /// Per ISA: replaces every placeholder call of `module` by the pin (see the type's comment);
    /// returns how many.
    @discardableResult
    static func lower(_ module: LLVMModuleRef, isa: ISA) -> Int {
        guard let function = LLVMGetNamedFunction(module, placeholder) else { return 0 }
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        var users: [LLVMValueRef] = []
        var use = LLVMGetFirstUse(function)
        while let u = use {
            users.append(LLVMGetUser(u)!)
            use = LLVMGetNextUse(u)
        }
        for pin in users where isPlaceholder(pin) {
            let value = LLVMGetOperand(pin, 0)!
            var parameters: [LLVMTypeRef?] = [LLVMTypeOf(value)]
            let type = LLVMFunctionType(LLVMTypeOf(value), &parameters, 1, 0)!
            // Output and input in the return register (the statement is empty: the output is the
            // input); the register allocator copies the output elsewhere after it if it must.
            let text = "=" + returnRegister(for: LLVMTypeOf(value)!, isa: isa) + ",0"
            let asm = LLVMGetInlineAsm(type, "", 0, text, text.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
            builder.position(before: pin)
            var arguments: [LLVMValueRef?] = [value]
            let statement = LLVMBuildCall2(builder.ref, type, asm, &arguments, 1, "")!
            LLVMAddCallSiteAttribute(statement, LLVMAttributeIndex(bitPattern: -1), convergent)
            LLVMReplaceAllUsesWith(pin, statement)
            LLVMInstructionEraseFromParent(pin)
        }
        LLVMDeleteFunction(function)
        return users.count
    }
}
