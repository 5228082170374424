import CLLVM

/// Turns `fp128` math intrinsics and `frem` back into calls of the libm functions they stand
/// for, so that `LongDoubleBoundary` can route them through its x87 wrappers.
///
/// The frontend and optimiser express `sqrtl`, `lrintl`, `frexpl`, … as intrinsics, and the
/// x86_64 backend would lower those to calls of the same libm names with the binary128
/// calling convention, which x86_64 libc does not implement. Intrinsics the backend expands
/// inline (`fabs`, `copysign`, `fmuladd`, …) or lowers to libgcc's binary128 routines
/// (`powi` → `__powitf2`) are left alone.
struct LongDoubleIntrinsics {
    /// Intrinsic base name → libm function with the same operands and result.
    static let libmEquivalents: [String: String] = [
        "sqrt": "sqrtl", "sin": "sinl", "cos": "cosl", "tan": "tanl", "pow": "powl",
        "exp": "expl", "exp2": "exp2l", "exp10": "exp10l", "log": "logl", "log2": "log2l",
        "log10": "log10l", "floor": "floorl", "ceil": "ceill", "trunc": "truncl", "round": "roundl",
        "rint": "rintl", "nearbyint": "nearbyintl", "fma": "fmal", "minnum": "fminl",
        "maxnum": "fmaxl", "lrint": "lrintl", "llrint": "llrintl", "lround": "lroundl",
        "llround": "llroundl", "ldexp": "ldexpl", "asin": "asinl", "acos": "acosl", "atan": "atanl",
        "atan2": "atan2l", "sinh": "sinhl", "cosh": "coshl", "tanh": "tanhl",
    ]

    /// Rewrites the module; returns how many instructions were replaced.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var replaced = 0
        var intrinsics: [LLVMValueRef] = []
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for instruction in IR.instructions(of: function) {
                if LLVMGetInstructionOpcode(instruction) == LLVMFRem, IR.isFP128(LLVMTypeOf(instruction)) {
                    replace(instruction, with: "fmodl", module: module, builder: builder)
                    replaced += 1
                    continue
                }
                guard LLVMIsACallInst(instruction) != nil, let name = IR.calleeName(of: instruction),
                      name.hasPrefix("llvm."), involvesFP128(instruction) else { continue }
                intrinsics.append(LLVMGetCalledValue(instruction)!)
                let base = name.dropFirst(5).split(separator: ".").first.map(String.init) ?? ""
                if base == "frexp" {
                    replaceFrexp(instruction, module: module, context: context, builder: builder)
                    replaced += 1
                } else if let libm = Self.libmEquivalents[base] {
                    replace(instruction, with: libm, module: module, builder: builder)
                    replaced += 1
                }
            }
        }
        IR.deleteUnusedDeclarations(intrinsics)
        return replaced
    }

    private func involvesFP128(_ call: LLVMValueRef) -> Bool {
        IR.isFP128(LLVMTypeOf(call)) || IR.arguments(of: call).contains { IR.isFP128(LLVMTypeOf($0)) }
    }

    /// The module's declaration of a libm function, created with `type` if missing.
    private func declaration(_ name: String, type: LLVMTypeRef, module: LLVMModuleRef) -> LLVMValueRef {
        LLVMGetNamedFunction(module, name) ?? LLVMAddFunction(module, name, type)!
    }

    /// Replaces an instruction whose operands and result match the libm function's prototype.
    private func replace(_ instruction: LLVMValueRef, with libm: String, module: LLVMModuleRef,
                         builder: borrowing IRBuilder) {
        let isCall = LLVMIsACallInst(instruction) != nil
        var operands: [LLVMValueRef?] = isCall ? IR.arguments(of: instruction)
            : (0..<Int(LLVMGetNumOperands(instruction))).map { LLVMGetOperand(instruction, UInt32($0)) }
        var parameterTypes: [LLVMTypeRef?] = operands.map { LLVMTypeOf($0) }
        let type = parameterTypes.withUnsafeMutableBufferPointer {
            LLVMFunctionType(LLVMTypeOf(instruction), $0.baseAddress, UInt32($0.count), 0)!
        }
        let function = declaration(libm, type: type, module: module)
        builder.position(before: instruction)
        builder.takeDebugLocation(from: instruction)
        let call = operands.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, type, function, $0.baseAddress, UInt32($0.count), "")!
        }
        LLVMReplaceAllUsesWith(instruction, call)
        LLVMInstructionEraseFromParent(instruction)
    }

    /// `{fp128, i32} llvm.frexp(x)` → `frexpl(x, &exponent)` packed into the same pair.
    private func replaceFrexp(_ call: LLVMValueRef, module: LLVMModuleRef, context: LLVMContextRef,
                              builder: borrowing IRBuilder) {
        let fp128 = LLVMFP128TypeInContext(context)!
        let i32 = LLVMInt32TypeInContext(context)!
        var parameters: [LLVMTypeRef?] = [fp128, LLVMPointerTypeInContext(context, 0)]
        let type = LLVMFunctionType(fp128, &parameters, 2, 0)!
        let frexpl = declaration("frexpl", type: type, module: module)
        let function = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call))!
        let entry = LLVMGetEntryBasicBlock(function)!
        if let first = LLVMGetFirstInstruction(entry) { builder.position(before: first) }
        else { builder.position(atEndOf: entry) }
        let slot = LLVMBuildAlloca(builder.ref, i32, "frexp.exponent")!
        builder.position(before: call)
        builder.takeDebugLocation(from: call)
        var arguments: [LLVMValueRef?] = [LLVMGetOperand(call, 0), slot]
        let mantissa = LLVMBuildCall2(builder.ref, type, frexpl, &arguments, 2, "")!
        let exponent = LLVMBuildLoad2(builder.ref, i32, slot, "")!
        var pair = LLVMGetUndef(LLVMTypeOf(call))!
        pair = LLVMBuildInsertValue(builder.ref, pair, mantissa, 0, "")
        pair = LLVMBuildInsertValue(builder.ref, pair, exponent, 1, "")
        LLVMReplaceAllUsesWith(call, pair)
        LLVMInstructionEraseFromParent(call)
    }
}
