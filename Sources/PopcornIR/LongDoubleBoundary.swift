import CLLVM

/// x86_64 pass 5: converts `long double` values where the program (binary128 on every ISA)
/// calls x86_64 libc (x87 80-bit `long double`).
///
/// * Declarations of the libc functions in `LongDoubleFunction.table` become internal wrappers
///   named `__popcorn_x87.<name>` that convert `fp128` arguments with `fptrunc`, call the real
///   function declared with `x86_fp80` types, and convert results (and values written through
///   `long double *` out-parameters) back with `fpext`. Renaming the declaration itself means
///   every use, including taking the function's address, goes through the wrapper.
/// * `fp128` math intrinsics are first turned back into libm calls (`LongDoubleIntrinsics`).
/// * Variadic `fp128` arguments of printf-family calls are truncated to `x86_fp80` at the call.
struct LongDoubleBoundary {
    /// Prefix of the generated wrappers.
    static let wrapperPrefix = "__popcorn_x87."

    /// Rewrites the module; returns the number of wrappers created plus calls converted.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var changes = LongDoubleIntrinsics().run(on: module)
        for function in IR.functions(of: module) where !IR.isDefinition(function) {
            let name = IR.name(of: function)
            guard let entry = LongDoubleFunction.table[name], !entry.involvesComplex,
                  needsWrapper(function, entry) else { continue }
            wrap(function, name: name, entry: entry, module: module, context: context, builder: builder)
            changes += 1
        }
        let x87 = LLVMX86FP80TypeInContext(context)!
        for call in IR.calls(in: module) {
            guard let name = IR.calleeName(of: call), LibcVariadicFunctions.printfFamily.contains(name),
                  let function = IR.calledFunction(of: call), !IR.isDefinition(function) else { continue }
            let functionType = LLVMGetCalledFunctionType(call)!
            let fixed = Int(LLVMCountParamTypes(functionType))
            var arguments = IR.arguments(of: call)
            guard arguments.dropFirst(fixed).contains(where: { IR.isFP128(LLVMTypeOf($0)) }) else { continue }
            builder.position(before: call)
            builder.takeDebugLocation(from: call)
            for i in fixed..<arguments.count where IR.isFP128(LLVMTypeOf(arguments[i])) {
                arguments[i] = LLVMBuildFPTrunc(builder.ref, arguments[i], x87, "")!
            }
            // Attributes such as `noundef` still hold; type-specific ones do not exist on fp128.
            let replacement = IR.rebuildCall(call, functionType: functionType, callee: LLVMGetCalledValue(call)!,
                                             arguments: arguments, argumentMap: Array(0..<arguments.count),
                                             builder: builder)
            LLVMReplaceAllUsesWith(call, replacement)
            LLVMInstructionEraseFromParent(call)
            changes += 1
        }
        return changes
    }

    /// A declaration needs a wrapper if a `long double` actually appears in its IR type (a
    /// user's own prototype for the same name might not have one) or it has out-parameters.
    private func needsWrapper(_ function: LLVMValueRef, _ entry: LongDoubleFunction) -> Bool {
        let type = LLVMGlobalGetValueType(function)!
        if IR.isFP128(LLVMGetReturnType(type)) { return true }
        if IR.parameterTypes(of: type).contains(where: IR.isFP128) { return true }
        return entry.parameters.contains(.longDoublePointer)
    }

    private func wrap(_ declaration: LLVMValueRef, name: String, entry: LongDoubleFunction,
                      module: LLVMModuleRef, context: LLVMContextRef, builder: borrowing IRBuilder) {
        let x87 = LLVMX86FP80TypeInContext(context)!
        let type = LLVMGlobalGetValueType(declaration)!
        let parameterTypes = IR.parameterTypes(of: type)
        let returnType = LLVMGetReturnType(type)!
        func native(_ t: LLVMTypeRef) -> LLVMTypeRef { IR.isFP128(t) ? x87 : t }

        let wrapperName = Self.wrapperPrefix + name
        IR.setName(declaration, wrapperName)
        var nativeParameters: [LLVMTypeRef?] = parameterTypes.map(native)
        let nativeType = nativeParameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(native(returnType), $0.baseAddress, UInt32($0.count), LLVMIsFunctionVarArg(type))!
        }
        let nativeFunction = LLVMAddFunction(module, name, nativeType)!

        let wrapper = declaration
        LLVMSetLinkage(wrapper, LLVMInternalLinkage)
        LLVMSetSection(wrapper, ".text.\(wrapperName)")
        let body = LLVMAppendBasicBlockInContext(context, wrapper, "entry")!
        builder.position(atEndOf: body)
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        var arguments: [LLVMValueRef?] = []
        var outputs: [(temporary: LLVMValueRef, destination: LLVMValueRef)] = []
        for (i, parameterType) in parameterTypes.enumerated() {
            let parameter = LLVMGetParam(wrapper, UInt32(i))!
            let kind = i < entry.parameters.count ? entry.parameters[i] : .other
            if IR.isFP128(parameterType) {
                arguments.append(LLVMBuildFPTrunc(builder.ref, parameter, x87, ""))
            } else if kind == .longDoublePointer {
                let temporary = LLVMBuildAlloca(builder.ref, x87, "")!
                LLVMSetAlignment(temporary, 16)
                outputs.append((temporary, parameter))
                arguments.append(temporary)
            } else {
                arguments.append(parameter)
            }
        }
        let result = arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, nativeType, nativeFunction, $0.baseAddress, UInt32($0.count), "")!
        }
        for output in outputs {
            let value = LLVMBuildLoad2(builder.ref, x87, output.temporary, "")!
            let store = LLVMBuildStore(builder.ref, LLVMBuildFPExt(builder.ref, value, LLVMFP128TypeInContext(context), ""),
                                       output.destination)!
            LLVMSetAlignment(store, 16)
        }
        if LLVMGetTypeKind(returnType) == LLVMVoidTypeKind {
            LLVMBuildRetVoid(builder.ref)
        } else if IR.isFP128(returnType) {
            LLVMBuildRet(builder.ref, LLVMBuildFPExt(builder.ref, result, returnType, ""))
        } else {
            LLVMBuildRet(builder.ref, result)
        }
    }
}
