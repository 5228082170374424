import CLLVM

/// Part of `StackMaps`: an instrumented call whose live values include carried ones
/// (`CarriedValues`) becomes an `llvm.experimental.gc.statepoint` of the same callee, so that its
/// record is taken at the call itself.
///
/// A stackmap placed after the call describes the values where they are at the stackmap, and the
/// register allocator puts reloads and copies of register-held values between the call and the
/// stackmap (a value spilled across the call is reloaded into the register the carry statement
/// wants it in), which moves the record past the return address. A statepoint's record is the
/// call's, at its return address. The statepoint lists
///
/// * every operand, in order, in its `"deopt"` bundle: the record's locations after the three
///   constants LLVM puts first (calling convention, flags, deopt count) describe them one to one
///   (`ISAMetadataBuilder` reads them so; the side table describes the same operands);
/// * the carried values again in its `"gc-live"` bundle, as `ptr addrspace(1)` (integers through
///   `inttoptr`): LLVM then *relocates* them — the value after the call is a new definition that
///   the statepoint writes, in the location it reports — so code after the call reads each value
///   from where the record says it is, and from nowhere else (a spill slot the value was also
///   stored to before the call is not read after it). The carry statement takes the converted-back
///   relocated values. The record's base/derived pairs that follow the deopt locations are not used.
///
/// Code generation options make this possible (`LLVMTargets`): relocated values may stay in
/// registers (`-max-registers-for-gc-values`), callee-saved ones included
/// (`-fixup-allow-gcptr-in-csr`), and deopt values are reported where they are
/// (`-use-registers-for-deopt-values`) rather than copied to slots of their own.
enum StatepointCall {
    static let intrinsic = "llvm.experimental.gc.statepoint.p0"
    /// The GC strategy that makes LLVM accept statepoints in a function; nothing else of it is used.
    static let strategy = "statepoint-example"

    /// Whether `call` can become a statepoint: a plain call (not variadic, no operand bundles, no
    /// `returns_twice`), none of whose arguments is passed in memory or by special register, and
    /// whose result needs no extension (a statepoint carries argument attributes, not result ones).
    static func isEligible(_ call: LLVMValueRef) -> Bool {
        guard LLVMIsACallInst(call) != nil, LLVMGetNumOperandBundles(call) == 0 else { return false }
        let type = LLVMGetCalledFunctionType(call)!
        guard LLVMIsFunctionVarArg(type) == 0 else { return false }
        func has(_ name: String, at index: LLVMAttributeIndex) -> Bool {
            let kind = LLVMGetEnumAttributeKindForName(name, name.utf8.count)
            if LLVMGetCallSiteEnumAttribute(call, index, kind) != nil { return true }
            if let callee = IR.calledFunction(of: call), LLVMGetEnumAttributeAtIndex(callee, index, kind) != nil { return true }
            return false
        }
        if has("returns_twice", at: LLVMAttributeIndex.max) { return false }
        for name in ["zeroext", "signext", "inreg"] where has(name, at: 0) { return false }
        let memoryArguments = ["byval", "sret", "inalloca", "preallocated", "nest", "inreg", "swiftself", "swifterror", "swiftasync"]
        for i in 0..<IR.argumentCount(of: call) {
            for name in memoryArguments where has(name, at: LLVMAttributeIndex(i + 1)) { return false }
        }
        return true
    }

    /// Replaces `call` by a statepoint with ID `id`, `operands` in its deopt bundle and `carried`
    /// (a subset of the operands) live and relocated; returns the relocated values (same types as
    /// `carried`, in order) and the last instruction added. The call's result is replaced by the
    /// statepoint's `gc.result` (`result`; nil for a call without one).
    static func replace(_ call: LLVMValueRef, id: UInt64, operands: [LLVMValueRef], carried: [LLVMValueRef],
                        module: LLVMModuleRef, builder: borrowing IRBuilder)
        -> (relocated: [LLVMValueRef], result: LLVMValueRef?, last: LLVMValueRef) {
        let context = LLVMGetModuleContext(module)!
        let i64 = LLVMInt64TypeInContext(context)!, i32 = LLVMInt32TypeInContext(context)!
        let pointer = LLVMPointerTypeInContext(context, 0)!, managed = LLVMPointerTypeInContext(context, 1)!
        let function = LLVMGetBasicBlockParent(LLVMGetInstructionParent(call)!)!
        LLVMSetGC(function, strategy)
        builder.position(before: call)
        LLVMSetCurrentDebugLocation2(builder.ref, LLVMInstructionGetDebugLoc(call))

        // Carried values as GC pointers; the deopt bundle names the same converted values, so its
        // locations are the relocated values' own.
        var converted: [UnsafeRawPointer: LLVMValueRef] = [:]
        for value in carried {
            let type = LLVMTypeOf(value)!
            converted[UnsafeRawPointer(value)] = LLVMGetTypeKind(type) == LLVMPointerTypeKind
                ? LLVMBuildAddrSpaceCast(builder.ref, value, managed, "popcorn.live")!
                : LLVMBuildIntToPtr(builder.ref, value, managed, "popcorn.live")!
        }
        var deopt: [LLVMValueRef?] = operands.map { converted[UnsafeRawPointer($0)] ?? $0 }
        var live: [LLVMValueRef?] = carried.map { converted[UnsafeRawPointer($0)]! }
        let bundles: [LLVMOperandBundleRef?] = [
            deopt.withUnsafeMutableBufferPointer { LLVMCreateOperandBundle("deopt", 5, $0.baseAddress, UInt32($0.count)) },
            live.withUnsafeMutableBufferPointer { LLVMCreateOperandBundle("gc-live", 7, $0.baseAddress, UInt32($0.count)) },
        ]
        defer { bundles.forEach { LLVMDisposeOperandBundle($0) } }

        // gc.statepoint(id, patch bytes, callee, argument count, flags, arguments…, 0, 0)
        let calleeType = LLVMGetCalledFunctionType(call)!
        let arguments = IR.arguments(of: call)
        let statepointType = intrinsicType(named: "llvm.experimental.gc.statepoint", overloads: [pointer], module: module)
        let statepointFunction = intrinsic(named: "llvm.experimental.gc.statepoint", overloads: [pointer], module: module)
        var statepointArguments: [LLVMValueRef?] = [LLVMConstInt(i64, id, 0), LLVMConstInt(i32, 0, 0), LLVMGetCalledValue(call),
                                                   LLVMConstInt(i32, UInt64(arguments.count), 0), LLVMConstInt(i32, 0, 0)]
        statepointArguments += arguments.map { Optional($0) }
        statepointArguments += [LLVMConstInt(i32, 0, 0), LLVMConstInt(i32, 0, 0)]
        var bundleList = bundles
        let statepoint = statepointArguments.withUnsafeMutableBufferPointer { args in
            bundleList.withUnsafeMutableBufferPointer {
                LLVMBuildCallWithOperandBundles(builder.ref, statepointType, statepointFunction, args.baseAddress, UInt32(args.count),
                                                $0.baseAddress, UInt32($0.count), "popcorn.statepoint")!
            }
        }
        LLVMSetInstructionCallConv(statepoint, LLVMGetInstructionCallConv(call))
        let elementType = LLVMCreateTypeAttribute(context, LLVMGetEnumAttributeKindForName("elementtype", 11), calleeType)!
        LLVMAddCallSiteAttribute(statepoint, 3, elementType)
        // The call's argument attributes (`noundef`, `nonnull`, …); the statepoint passes them on.
        for i in 0..<arguments.count {
            for attribute in IR.callSiteAttributes(of: call, at: LLVMAttributeIndex(i + 1)) {
                LLVMAddCallSiteAttribute(statepoint, LLVMAttributeIndex(i + 6), attribute)
            }
        }
        var last = statepoint
        var callResult: LLVMValueRef?
        var token: [LLVMValueRef?] = [statepoint]
        let resultType = LLVMGetReturnType(calleeType)!
        if LLVMGetTypeKind(resultType) != LLVMVoidTypeKind {
            let type = intrinsicType(named: "llvm.experimental.gc.result", overloads: [resultType], module: module)
            let function = intrinsic(named: "llvm.experimental.gc.result", overloads: [resultType], module: module)
            let result = token.withUnsafeMutableBufferPointer {
                LLVMBuildCall2(builder.ref, type, function, $0.baseAddress, 1, "popcorn.result")!
            }
            LLVMReplaceAllUsesWith(call, result)
            last = result
            callResult = result
        }
        var relocated: [LLVMValueRef] = []
        let relocateType = intrinsicType(named: "llvm.experimental.gc.relocate", overloads: [managed], module: module)
        let relocate = intrinsic(named: "llvm.experimental.gc.relocate", overloads: [managed], module: module)
        for (index, value) in carried.enumerated() {
            // gc.relocate(token, base index, derived index) into the gc-live bundle.
            var relocateArguments: [LLVMValueRef?] = [statepoint, LLVMConstInt(i32, UInt64(index), 0), LLVMConstInt(i32, UInt64(index), 0)]
            let moved = relocateArguments.withUnsafeMutableBufferPointer {
                LLVMBuildCall2(builder.ref, relocateType, relocate, $0.baseAddress, 3, "popcorn.relocated")!
            }
            let type = LLVMTypeOf(value)!
            let back = LLVMGetTypeKind(type) == LLVMPointerTypeKind
                ? LLVMBuildAddrSpaceCast(builder.ref, moved, type, "popcorn.relocated")!
                : LLVMBuildPtrToInt(builder.ref, moved, type, "popcorn.relocated")!
            relocated.append(back)
            last = back
        }
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        LLVMInstructionEraseFromParent(call)
        return (relocated, callResult, last)
    }

    /// Whether `instruction` is a statepoint.
    static func isStatepoint(_ instruction: LLVMValueRef) -> Bool {
        LLVMIsACallInst(instruction) != nil && IR.calleeName(of: instruction) == intrinsic
    }

    private static func intrinsic(named name: String, overloads: [LLVMTypeRef], module: LLVMModuleRef) -> LLVMValueRef {
        var types: [LLVMTypeRef?] = overloads
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        return types.withUnsafeMutableBufferPointer { LLVMGetIntrinsicDeclaration(module, id, $0.baseAddress, $0.count)! }
    }

    private static func intrinsicType(named name: String, overloads: [LLVMTypeRef], module: LLVMModuleRef) -> LLVMTypeRef {
        var types: [LLVMTypeRef?] = overloads
        let id = LLVMLookupIntrinsicID(name, name.utf8.count)
        return types.withUnsafeMutableBufferPointer {
            LLVMIntrinsicGetType(LLVMGetModuleContext(module), id, $0.baseAddress, $0.count)!
        }
    }
}
