import CLLVM

/// Per-ISA pass: every portable statepoint (a call with a `"statepoint-id"` and its carried
/// values' placeholders right after it, `Statepoints`) becomes `llvm.experimental.gc.statepoint`
/// with the stack objects in a `"deopt"` bundle and the carried values in a `"gc-live"` bundle,
/// `gc.result` for a used result and one `gc.relocate` per carried value. The function gets the
/// `statepoint-example` GC strategy, which the verifier requires of statepoints and which changes
/// nothing else in code generation (no roots, no safepoint polls). An empty `convergent` inline-asm
/// statement follows, so that no pass copies the call (one ID, one record).
///
/// LLVM relocates pointers of address space 1 only: each value goes in as one (a pointer by an
/// address-space cast, an integer zero-extended to 64 bits, a float through the integer of its
/// bits) and comes back out the same way; these conversions cost no instruction beyond the
/// extensions and truncations. Last of the per-ISA passes: the others see an ordinary call (the C
/// library's shims, for one, rename callees). The call's calling convention, argument extensions
/// and debug location go to the statepoint; other call-site attributes only describe the callee
/// and are dropped.
struct StatepointLowering {
    static let statepointIntrinsic = "llvm.experimental.gc.statepoint"
    static let resultIntrinsic = "llvm.experimental.gc.result"
    static let relocateIntrinsic = "llvm.experimental.gc.relocate"
    static let strategy = "statepoint-example"
    /// Argument attributes that change how the caller passes an argument.
    static let passing = ["zeroext", "signext", "inreg", "noundef"]

    /// Lowers every portable statepoint of `module`; returns how many.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let calls = IR.calls(in: module).filter(Statepoints.isStatepointCall)
        for call in calls { lower(call, module: module, context: context, builder: builder) }
        if let placeholder = LLVMGetNamedFunction(module, Statepoints.carryPlaceholder), LLVMGetFirstUse(placeholder) == nil {
            LLVMDeleteFunction(placeholder)
        }
        return calls.count
    }

    private func lower(_ call: LLVMValueRef, module: LLVMModuleRef, context: LLVMContextRef, builder: borrowing IRBuilder) {
        let i64 = LLVMInt64TypeInContext(context)!, i32 = LLVMInt32TypeInContext(context)!
        let pointer = LLVMPointerTypeInContext(context, 0)!
        let managed = LLVMPointerTypeInContext(context, 1)!
        let token = LLVMTokenTypeInContext(context)!
        let function = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call))!
        LLVMSetGC(function, Self.strategy)
        let calleeType = LLVMGetCalledFunctionType(call)!
        let arguments = IR.arguments(of: call)
        let carries = Statepoints.carries(after: call)
        builder.position(before: call)
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        let live: [LLVMValueRef?] = carries.map { carry in
            Self.toManaged(LLVMGetOperand(carry, 0)!, managed: managed, i64: i64, builder: builder)
        }
        var overloads: [LLVMTypeRef?] = [pointer]
        let statepointFunction = declaration(Self.statepointIntrinsic, overloads: &overloads, module: module)
        var parameterTypes: [LLVMTypeRef?] = [i64, i32, pointer, i32, i32]
        let statepointType = parameterTypes.withUnsafeMutableBufferPointer { LLVMFunctionType(token, $0.baseAddress, 5, 1)! }
        var operands: [LLVMValueRef?] = [LLVMConstInt(i64, Statepoints.id(of: call) ?? 0, 0), LLVMConstInt(i32, 0, 0),
                                         LLVMGetCalledValue(call), LLVMConstInt(i32, UInt64(arguments.count), 0),
                                         LLVMConstInt(i32, 0, 0)]
        operands += arguments.map { Optional($0) }
        operands += [LLVMConstInt(i32, 0, 0), LLVMConstInt(i32, 0, 0)]   // no transition values, no old-style deopt values
        var stackObjects: [LLVMValueRef?] = Statepoints.bundle(of: call)
        var liveValues = live
        let deopt = stackObjects.withUnsafeMutableBufferPointer {
            LLVMCreateOperandBundle(Statepoints.bundleTag, Statepoints.bundleTag.utf8.count, $0.baseAddress, UInt32($0.count))!
        }
        let gcLive = liveValues.withUnsafeMutableBufferPointer {
            LLVMCreateOperandBundle("gc-live", 7, $0.baseAddress, UInt32($0.count))!
        }
        defer { LLVMDisposeOperandBundle(deopt); LLVMDisposeOperandBundle(gcLive) }
        var bundles: [LLVMOperandBundleRef?] = [deopt, gcLive]
        let statepoint = operands.withUnsafeMutableBufferPointer { operands in
            bundles.withUnsafeMutableBufferPointer {
                LLVMBuildCallWithOperandBundles(builder.ref, statepointType, statepointFunction, operands.baseAddress,
                                                UInt32(operands.count), $0.baseAddress, 2, "")!
            }
        }
        LLVMSetInstructionCallConv(statepoint, LLVMGetInstructionCallConv(call))
        if let location = LLVMInstructionGetDebugLoc(call) { LLVMInstructionSetDebugLoc(statepoint, location) }
        // The callee's type, as the verifier wants it; then the arguments' extensions, at their positions.
        let elementType = LLVMGetEnumAttributeKindForName("elementtype", 11)
        LLVMAddCallSiteAttribute(statepoint, 3, LLVMCreateTypeAttribute(context, elementType, calleeType))
        for index in 0..<arguments.count {
            for attribute in IR.callSiteAttributes(of: call, at: LLVMAttributeIndex(index + 1))
            where LLVMIsEnumAttribute(attribute) != 0 && Self.passingKinds.contains(LLVMGetEnumAttributeKind(attribute)) {
                LLVMAddCallSiteAttribute(statepoint, LLVMAttributeIndex(index + 6), attribute)
            }
        }
        var last = statepoint
        let returnType = LLVMGetReturnType(calleeType)!
        if LLVMGetTypeKind(returnType) != LLVMVoidTypeKind && LLVMGetFirstUse(call) != nil {
            var resultOverloads: [LLVMTypeRef?] = [returnType]
            let resultFunction = declaration(Self.resultIntrinsic, overloads: &resultOverloads, module: module)
            builder.position(after: last)
            var resultArguments: [LLVMValueRef?] = [statepoint]
            let result = LLVMBuildCall2(builder.ref, LLVMGlobalGetValueType(resultFunction), resultFunction, &resultArguments, 1, "")!
            LLVMReplaceAllUsesWith(call, result)
            last = result
        }
        LLVMInstructionEraseFromParent(call)
        var relocateOverloads: [LLVMTypeRef?] = [managed]
        let relocateFunction = carries.isEmpty ? nil : declaration(Self.relocateIntrinsic, overloads: &relocateOverloads, module: module)
        for (index, carry) in carries.enumerated() {
            builder.position(after: last)
            var relocateArguments: [LLVMValueRef?] = [statepoint, LLVMConstInt(i32, UInt64(index), 0), LLVMConstInt(i32, UInt64(index), 0)]
            let relocated = LLVMBuildCall2(builder.ref, LLVMGlobalGetValueType(relocateFunction!), relocateFunction!,
                                           &relocateArguments, 3, "")!
            let value = Self.fromManaged(relocated, to: LLVMTypeOf(carry)!, pointer: pointer, i64: i64, builder: builder)
            LLVMReplaceAllUsesWith(carry, value)
            last = LLVMIsAInstruction(value) != nil ? value : relocated
            LLVMInstructionEraseFromParent(carry)
        }
        // An empty convergent statement keeps the block from being copied: the machine tail
        // duplicator would otherwise give two records one ID (as for stackmaps, `CalleeSavedBarrier`).
        var noParameters: [LLVMTypeRef?] = []
        let statementType = LLVMFunctionType(LLVMVoidTypeInContext(context), &noParameters, 0, 0)!
        builder.position(after: last)
        var noArguments: [LLVMValueRef?] = []
        let statement = LLVMBuildCall2(builder.ref, statementType,
                                       LLVMGetInlineAsm(statementType, "", 0, "", 0, 1, 0, LLVMInlineAsmDialectATT, 0),
                                       &noArguments, 0, "")!
        LLVMAddCallSiteAttribute(statement, LLVMAttributeIndex(bitPattern: -1),
                                 LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0))
    }

    /// `value` as a pointer of address space 1 (built at the builder's position).
    static func toManaged(_ value: LLVMValueRef, managed: LLVMTypeRef, i64: LLVMTypeRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        if LLVMGetTypeKind(LLVMTypeOf(value)) == LLVMPointerTypeKind { return LLVMBuildAddrSpaceCast(builder.ref, value, managed, "") }
        return LLVMBuildIntToPtr(builder.ref, toBits(value, i64: i64, builder: builder), managed, "")
    }

    /// The value of `type` that `toManaged` turned into `relocated` (built at the builder's position).
    static func fromManaged(_ relocated: LLVMValueRef, to type: LLVMTypeRef, pointer: LLVMTypeRef, i64: LLVMTypeRef,
                            builder: borrowing IRBuilder) -> LLVMValueRef {
        if LLVMGetTypeKind(type) == LLVMPointerTypeKind { return LLVMBuildAddrSpaceCast(builder.ref, relocated, pointer, "") }
        return fromBits(LLVMBuildPtrToInt(builder.ref, relocated, i64, ""), to: type, builder: builder)
    }

    /// A carriable value's bits as an `i64` (zero-extended).
    static func toBits(_ value: LLVMValueRef, i64: LLVMTypeRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        let type = LLVMTypeOf(value)!
        switch LLVMGetTypeKind(type) {
        case LLVMPointerTypeKind:
            return LLVMBuildPtrToInt(builder.ref, value, i64, "")
        case LLVMFloatTypeKind:
            let bits = LLVMBuildBitCast(builder.ref, value, LLVMInt32TypeInContext(LLVMGetTypeContext(type)), "")!
            return LLVMBuildZExt(builder.ref, bits, i64, "")
        case LLVMDoubleTypeKind:
            return LLVMBuildBitCast(builder.ref, value, i64, "")
        default:
            return LLVMGetIntTypeWidth(type) < 64 ? LLVMBuildZExt(builder.ref, value, i64, "")! : value
        }
    }

    /// The value of `type` whose bits `toBits` gave.
    static func fromBits(_ bits: LLVMValueRef, to type: LLVMTypeRef, builder: borrowing IRBuilder) -> LLVMValueRef {
        switch LLVMGetTypeKind(type) {
        case LLVMPointerTypeKind:
            return LLVMBuildIntToPtr(builder.ref, bits, type, "")
        case LLVMFloatTypeKind:
            let narrow = LLVMBuildTrunc(builder.ref, bits, LLVMInt32TypeInContext(LLVMGetTypeContext(type)), "")!
            return LLVMBuildBitCast(builder.ref, narrow, type, "")
        case LLVMDoubleTypeKind:
            return LLVMBuildBitCast(builder.ref, bits, type, "")
        default:
            return LLVMGetIntTypeWidth(type) < 64 ? LLVMBuildTrunc(builder.ref, bits, type, "") : bits
        }
    }

    private static let passingKinds = Set(passing.map { LLVMGetEnumAttributeKindForName($0, $0.utf8.count) })

    private func declaration(_ name: String, overloads: inout [LLVMTypeRef?], module: LLVMModuleRef) -> LLVMValueRef {
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        return overloads.withUnsafeMutableBufferPointer {
            LLVMGetIntrinsicDeclaration(module, id, $0.baseAddress, $0.count)!
        }
    }
}
