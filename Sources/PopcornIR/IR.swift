import CLLVM

/// Small conveniences over the C API's iteration and naming functions, shared by the passes.
///
/// The passes work on raw `LLVMValueRef`s: values are owned by their module, so borrowing them
/// as plain pointers while the owning `IRModule` is alive is the natural model.
enum IR {
    /// Every function (definitions and declarations) of a module, in order.
    static func functions(of module: LLVMModuleRef) -> [LLVMValueRef] {
        collect(LLVMGetFirstFunction(module), LLVMGetNextFunction)
    }

    /// Every global variable of a module, in order.
    static func globals(of module: LLVMModuleRef) -> [LLVMValueRef] {
        collect(LLVMGetFirstGlobal(module), LLVMGetNextGlobal)
    }

    /// Every instruction of a function, block by block.
    static func instructions(of function: LLVMValueRef) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var block = LLVMGetFirstBasicBlock(function)
        while let b = block {
            result += collect(LLVMGetFirstInstruction(b), LLVMGetNextInstruction)
            block = LLVMGetNextBasicBlock(b)
        }
        return result
    }

    /// Every call instruction in the module's function definitions.
    static func calls(in module: LLVMModuleRef) -> [LLVMValueRef] {
        functions(of: module).flatMap { instructions(of: $0) }.filter { LLVMIsACallInst($0) != nil }
    }

    /// Every instruction operand that is `value`, as (instruction, operand index), each once.
    static func operandUses(of value: LLVMValueRef) -> [(user: LLVMValueRef, operand: UInt32)] {
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
        return uses
    }

    /// Every instruction that uses `value` directly (constant-expression users are looked through).
    static func instructionUsers(of value: LLVMValueRef) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var use = LLVMGetFirstUse(value)
        while let u = use {
            let user = LLVMGetUser(u)!
            if LLVMIsAInstruction(user) != nil { result.append(user) }
            else if LLVMIsAConstantExpr(user) != nil { result += instructionUsers(of: user) }
            use = LLVMGetNextUse(u)
        }
        return result
    }

    private static func collect(_ first: LLVMValueRef?, _ next: (LLVMValueRef?) -> LLVMValueRef?) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var current = first
        while let c = current {
            result.append(c)
            current = next(c)
        }
        return result
    }

    /// Deletes the declarations among `functions` that nothing uses any more (intrinsics a pass
    /// replaced), so the output does not mention what it no longer calls.
    static func deleteUnusedDeclarations(_ functions: [LLVMValueRef]) {
        for function in Set(functions.map { UnsafeRawPointer($0) }).map({ OpaquePointer($0) })
        where LLVMGetFirstUse(function) == nil && !isDefinition(function) {
            LLVMDeleteFunction(function)
        }
    }

    /// The name of a value (empty for unnamed values).
    static func name(of value: LLVMValueRef) -> String {
        var length = 0
        guard let s = LLVMGetValueName2(value, &length), length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: s, count: length), as: UTF8.self)
    }

    static func setName(_ value: LLVMValueRef, _ name: String) {
        LLVMSetValueName2(value, name, name.utf8.count)
    }

    /// The explicit section of a global value, or nil.
    static func section(of value: LLVMValueRef) -> String? {
        guard let s = LLVMGetSection(value) else { return nil }
        let section = String(cString: s)
        return section.isEmpty ? nil : section
    }

    /// True for functions and globals that have a body or initialiser in this module.
    static func isDefinition(_ value: LLVMValueRef) -> Bool {
        LLVMIsDeclaration(value) == 0
    }

    /// The function a call instruction calls directly, looking through no-op casts; nil for
    /// indirect calls, inline assembly and anything that is not a call (asking the C API for
    /// the callee of a non-call is undefined behaviour).
    static func calledFunction(of call: LLVMValueRef) -> LLVMValueRef? {
        guard LLVMIsACallInst(call) != nil || LLVMIsAInvokeInst(call) != nil, var callee = LLVMGetCalledValue(call) else { return nil }
        while LLVMIsAConstantExpr(callee) != nil, LLVMGetConstOpcode(callee) == LLVMBitCast {
            callee = LLVMGetOperand(callee, 0)
        }
        return LLVMIsAFunction(callee) != nil ? callee : nil
    }

    /// Name of the directly called function, or nil.
    static func calleeName(of call: LLVMValueRef) -> String? {
        calledFunction(of: call).map(name(of:))
    }

    /// True for calls of `llvm.*` intrinsics (which are not calls on the stack when a point runs).
    static func isIntrinsicCall(_ call: LLVMValueRef) -> Bool {
        guard let function = calledFunction(of: call) else { return false }
        return LLVMGetIntrinsicID(function) != 0 || name(of: function).hasPrefix("llvm.")
    }

    /// True for a call whose callee is inline assembly.
    static func isInlineAsmCall(_ call: LLVMValueRef) -> Bool {
        guard LLVMIsACallInst(call) != nil || LLVMIsACallBrInst(call) != nil,
              let callee = LLVMGetCalledValue(call) else { return false }
        return LLVMIsAInlineAsm(callee) != nil
    }

    /// Number of argument operands of a call (excluding the callee).
    static func argumentCount(of call: LLVMValueRef) -> Int {
        Int(LLVMGetNumArgOperands(call))
    }

    static func arguments(of call: LLVMValueRef) -> [LLVMValueRef] {
        (0..<argumentCount(of: call)).map { LLVMGetOperand(call, UInt32($0))! }
    }

    /// Parameter types of a function type.
    static func parameterTypes(of functionType: LLVMTypeRef) -> [LLVMTypeRef] {
        let count = Int(LLVMCountParamTypes(functionType))
        var types = [LLVMTypeRef?](repeating: nil, count: count)
        types.withUnsafeMutableBufferPointer { LLVMGetParamTypes(functionType, $0.baseAddress) }
        return types.map { $0! }
    }

    /// True if the type is `fp128`.
    static func isFP128(_ type: LLVMTypeRef) -> Bool {
        LLVMGetTypeKind(type) == LLVMFP128TypeKind
    }

    /// The attributes at one index of a call site (0 = return, ~0 = function, i+1 = argument i).
    static func callSiteAttributes(of call: LLVMValueRef, at index: LLVMAttributeIndex) -> [LLVMAttributeRef] {
        let count = Int(LLVMGetCallSiteAttributeCount(call, index))
        guard count > 0 else { return [] }
        var attributes = [LLVMAttributeRef?](repeating: nil, count: count)
        attributes.withUnsafeMutableBufferPointer { LLVMGetCallSiteAttributes(call, index, $0.baseAddress) }
        return attributes.compactMap { $0 }
    }

    /// Builds a replacement for `call` with new callee/arguments that keeps the call's calling
    /// convention, tail-call kind, debug location, operand bundles and attributes (argument attributes follow
    /// `argumentMap`: new argument index → old argument index, or nil for inserted arguments).
    static func rebuildCall(_ call: LLVMValueRef, functionType: LLVMTypeRef, callee: LLVMValueRef,
                            arguments: [LLVMValueRef], argumentMap: [Int?], keepReturnAttributes: Bool = true,
                            builder: borrowing IRBuilder) -> LLVMValueRef {
        builder.position(before: call)
        var args: [LLVMValueRef?] = arguments
        // The operand bundles go with the call (a deopt bundle is its record's live values).
        var bundles: [LLVMOperandBundleRef?] = (0..<LLVMGetNumOperandBundles(call)).map { LLVMGetOperandBundleAtIndex(call, $0) }
        defer { for bundle in bundles { LLVMDisposeOperandBundle(bundle) } }
        let replacement = args.withUnsafeMutableBufferPointer { args in
            bundles.withUnsafeMutableBufferPointer {
                LLVMBuildCallWithOperandBundles(builder.ref, functionType, callee, args.baseAddress, UInt32(args.count),
                                                $0.baseAddress, UInt32($0.count), "")!
            }
        }
        LLVMSetInstructionCallConv(replacement, LLVMGetInstructionCallConv(call))
        LLVMSetTailCallKind(replacement, LLVMGetTailCallKind(call))
        if let location = LLVMInstructionGetDebugLoc(call) { LLVMInstructionSetDebugLoc(replacement, location) }
        let functionIndex = LLVMAttributeIndex.max // LLVMAttributeFunctionIndex (~0U)
        for attribute in callSiteAttributes(of: call, at: functionIndex) {
            LLVMAddCallSiteAttribute(replacement, functionIndex, attribute)
        }
        if keepReturnAttributes {
            for attribute in callSiteAttributes(of: call, at: LLVMAttributeIndex(LLVMAttributeReturnIndex)) {
                LLVMAddCallSiteAttribute(replacement, LLVMAttributeIndex(LLVMAttributeReturnIndex), attribute)
            }
        }
        for (newIndex, oldIndex) in argumentMap.enumerated() {
            guard let oldIndex else { continue }
            for attribute in callSiteAttributes(of: call, at: LLVMAttributeIndex(oldIndex + 1)) {
                LLVMAddCallSiteAttribute(replacement, LLVMAttributeIndex(newIndex + 1), attribute)
            }
        }
        return replacement
    }
}
