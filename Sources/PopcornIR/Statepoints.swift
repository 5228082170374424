import CLLVM

/// Instrumented calls whose record is the call itself, with the live values left in registers
/// (docs/MIGRATION-POINTS.md, "Statepoints").
///
/// A stackmap after a call describes only frame slots, because a register location is not
/// reliably the state at the return address (HAZARDS.md H11): every live value is kept in a slot
/// across the call (`StackSlotDemotion`), at a store before and a load after it. A statepoint
/// does not have that problem. The STATEPOINT machine instruction is the call, so its record's
/// offset is the return address; and each value it carries is *relocated*: the instruction
/// defines the value's new version in the very register or slot it reads it from (a tied
/// definition), every use after the call reads that version, and the record names that place. A
/// value in a callee-saved register stays there; one in a register the call clobbers is spilled
/// to a slot before the call and reloaded after it by LLVM's statepoint fix-up, and the record
/// names the slot. Whatever the runtime writes there is what the code sees after the call. Code
/// generation then proves that nothing else is carried across (`PopcornEmitCheckingStackMaps`:
/// callee-saved registers and spill slots live after the call that the record does not name).
///
/// Portable form: the call gets a `"deopt"` operand bundle of the stack objects the record lists
/// (frame addresses, which need no relocation) and its ID in the call-site attribute
/// `"statepoint-id"` (LLVM's own name for it); right after it, one `__popcorn.carry(T value)`
/// call per carried value returns the value's version after the call (every later use was
/// rewritten to it). Each ISA's `StatepointLowering` turns these into `gc.statepoint` with a
/// `"gc-live"` bundle and `gc.relocate` (LLVM relocates only pointers of address space 1, so the
/// values travel as such, converted on the way in and out), after the other per-ISA passes, which
/// see a plain call. A statepoint record starts with three constants (calling convention, flags,
/// number of deopt values), then the deopt values, then two locations (base and derived, the
/// same here) per carried value; the side table describes every one of them (`headerCount`).
enum Statepoints {
    static let bundleTag = "deopt"
    static let idAttribute = "statepoint-id"
    /// The placeholder of a carried value's version after the call, in the portable IR.
    static let carryPlaceholder = "__popcorn.carry"
    /// Constants at the start of every statepoint record: calling convention, flags, deopt count.
    static let headerCount = 3
    /// How many carried values of one call code generation may keep in registers (the rest go
    /// through stack slots, as relocated values too).
    static let registerLimit = 1000

    /// True if `call` (an instrumented call) can carry its live values as a statepoint: a plain,
    /// non-variadic call of a function with simple parameter and return types, without operand
    /// bundles, argument attributes that describe memory passed by value, or `returns_twice`
    /// (its return address is resumed by `longjmp`, whose jmp_buf holds callee-saved registers),
    /// and not the migration points' slow path.
    static func isEligible(_ call: LLVMValueRef) -> Bool {
        guard LLVMIsACallInst(call) != nil, !IR.isInlineAsmCall(call), LLVMGetNumOperandBundles(call) == 0,
              LLVMGetTailCallKind(call) != LLVMTailCallKindMustTail,
              let type = LLVMGetCalledFunctionType(call), LLVMIsFunctionVarArg(type) == 0 else { return false }
        let returnType = LLVMGetReturnType(type)!
        guard LLVMGetTypeKind(returnType) == LLVMVoidTypeKind || isSimple(returnType) else { return false }
        guard IR.parameterTypes(of: type).allSatisfy(isSimple) else { return false }
        if StackMaps.returnsTwice(call) { return false }
        // The migration points' slow path almost never runs: with a stackmap, the values live
        // across it are stored only on the way to it (`StackSlotDemotion`); carried, they would
        // have to be in callee-saved registers from the function's entry on, at a save and a
        // restore per register in every call of the function (SQLite: 3 % more instructions).
        if StackSlotDemotion.isSlowPath(call) { return false }
        for index in 0..<IR.argumentCount(of: call) {
            for attribute in IR.callSiteAttributes(of: call, at: LLVMAttributeIndex(index + 1)) {
                if LLVMIsTypeAttribute(attribute) != 0 { return false }  // byval, sret, inalloca, byref, …
                if LLVMIsEnumAttribute(attribute) != 0, refused.contains(LLVMGetEnumAttributeKind(attribute)) { return false }
            }
        }
        return true
    }

    /// True for the values a statepoint carries (as a 64-bit relocated value). Others (`i1`,
    /// `i128`, vectors, aggregates, x87 and binary128 floats) are kept in slots of their own.
    static func isCarriable(_ type: LLVMTypeRef) -> Bool {
        switch LLVMGetTypeKind(type) {
        case LLVMIntegerTypeKind: return [8, 16, 32, 64].contains(LLVMGetIntTypeWidth(type))
        case LLVMPointerTypeKind: return LLVMGetPointerAddressSpace(type) == 0
        case LLVMFloatTypeKind, LLVMDoubleTypeKind: return true
        default: return false
        }
    }

    /// Whether `call` is a portable statepoint (has a `"statepoint-id"`).
    static func isStatepointCall(_ call: LLVMValueRef) -> Bool {
        LLVMIsACallInst(call) != nil
            && LLVMGetCallSiteStringAttribute(call, LLVMAttributeIndex.max, idAttribute, UInt32(idAttribute.utf8.count)) != nil
    }

    /// Whether `instruction` is a carried value's placeholder.
    static func isCarry(_ instruction: LLVMValueRef) -> Bool {
        LLVMIsACallInst(instruction) != nil && IR.calleeName(of: instruction) == carryPlaceholder
    }

    /// The placeholders right after a portable statepoint, in order.
    static func carries(after call: LLVMValueRef) -> [LLVMValueRef] {
        var result: [LLVMValueRef] = []
        var next = LLVMGetNextInstruction(call)
        while let instruction = next, isCarry(instruction) {
            result.append(instruction)
            next = LLVMGetNextInstruction(instruction)
        }
        return result
    }

    /// The deopt bundle's values of `call` (empty if it has none).
    static func bundle(of call: LLVMValueRef) -> [LLVMValueRef] {
        for index in 0..<LLVMGetNumOperandBundles(call) {
            let bundle = LLVMGetOperandBundleAtIndex(call, index)!
            defer { LLVMDisposeOperandBundle(bundle) }
            var length = 0
            let tag = LLVMGetOperandBundleTag(bundle, &length)!
            guard String(decoding: UnsafeRawBufferPointer(start: tag, count: length), as: UTF8.self) == bundleTag else { continue }
            return (0..<LLVMGetNumOperandBundleArgs(bundle)).map { LLVMGetOperandBundleArgAtIndex(bundle, $0)! }
        }
        return []
    }

    /// The ID of a portable statepoint.
    static func id(of call: LLVMValueRef) -> UInt64? {
        let key = idAttribute
        guard let attribute = LLVMGetCallSiteStringAttribute(call, LLVMAttributeIndex.max, key, UInt32(key.utf8.count)) else {
            return nil
        }
        var length: UInt32 = 0
        let value = LLVMGetStringAttributeValue(attribute, &length)!
        return UInt64(String(decoding: UnsafeRawBufferPointer(start: value, count: Int(length)), as: UTF8.self))
    }

    /// A placeholder right after `call` standing for `value`'s version after it.
    static func insertCarry(of value: LLVMValueRef, after call: LLVMValueRef, module: LLVMModuleRef,
                            builder: borrowing IRBuilder) -> LLVMValueRef {
        let type = LLVMTypeOf(value)!
        var parameters: [LLVMTypeRef?] = [type]
        let functionType = LLVMFunctionType(type, &parameters, 1, 0)!
        let context = LLVMGetModuleContext(module)!
        let callee = LLVMGetNamedFunction(module, carryPlaceholder)
            ?? LLVMAddFunction(module, carryPlaceholder, LLVMFunctionType(LLVMVoidTypeInContext(context), nil, 0, 1))!
        builder.position(after: call)
        LLVMSetCurrentDebugLocation2(builder.ref, nil)
        var arguments: [LLVMValueRef?] = [value]
        return LLVMBuildCall2(builder.ref, functionType, callee, &arguments, 1, "popcorn.carried")!
    }

    /// Replaces `call` with the same call carrying `stackObjects` in a deopt bundle and `id`;
    /// returns the new call.
    static func attach(to call: LLVMValueRef, id: UInt64, stackObjects: [LLVMValueRef], builder: borrowing IRBuilder) -> LLVMValueRef {
        var values: [LLVMValueRef?] = stackObjects
        let bundle = values.withUnsafeMutableBufferPointer {
            LLVMCreateOperandBundle(bundleTag, bundleTag.utf8.count, $0.baseAddress, UInt32($0.count))!
        }
        defer { LLVMDisposeOperandBundle(bundle) }
        builder.position(before: call)
        var arguments: [LLVMValueRef?] = IR.arguments(of: call)
        var bundles: [LLVMOperandBundleRef?] = [bundle]
        let replacement = arguments.withUnsafeMutableBufferPointer { arguments in
            bundles.withUnsafeMutableBufferPointer {
                LLVMBuildCallWithOperandBundles(builder.ref, LLVMGetCalledFunctionType(call), LLVMGetCalledValue(call),
                                                arguments.baseAddress, UInt32(arguments.count), $0.baseAddress, 1, "")!
            }
        }
        LLVMSetInstructionCallConv(replacement, LLVMGetInstructionCallConv(call))
        LLVMSetTailCallKind(replacement, LLVMTailCallKindNoTail)
        if let location = LLVMInstructionGetDebugLoc(call) { LLVMInstructionSetDebugLoc(replacement, location) }
        let indices = [LLVMAttributeIndex.max, LLVMAttributeIndex(LLVMAttributeReturnIndex)]
            + (0..<IR.argumentCount(of: call)).map { LLVMAttributeIndex($0 + 1) }
        for index in indices {
            for attribute in IR.callSiteAttributes(of: call, at: index) { LLVMAddCallSiteAttribute(replacement, index, attribute) }
        }
        let context = LLVMGetTypeContext(LLVMTypeOf(call))!
        let text = String(id)
        LLVMAddCallSiteAttribute(replacement, LLVMAttributeIndex.max,
                                 LLVMCreateStringAttribute(context, idAttribute, UInt32(idAttribute.utf8.count),
                                                           text, UInt32(text.utf8.count)))
        if LLVMGetTypeKind(LLVMTypeOf(call)) != LLVMVoidTypeKind { LLVMReplaceAllUsesWith(call, replacement) }
        let name = IR.name(of: call)
        LLVMInstructionEraseFromParent(call)
        if !name.isEmpty { IR.setName(replacement, name) }
        return replacement
    }

    /// Parameter and return types a statepoint passes as the call would.
    private static func isSimple(_ type: LLVMTypeRef) -> Bool {
        switch LLVMGetTypeKind(type) {
        case LLVMIntegerTypeKind: return LLVMGetIntTypeWidth(type) <= 64
        case LLVMPointerTypeKind, LLVMFloatTypeKind, LLVMDoubleTypeKind: return true
        default: return false
        }
    }

    /// Argument attributes that change how an argument is passed beyond its type and extension.
    private static let refused: Set<UInt32> = Set(["nest", "swiftself", "swifterror", "swiftasync", "inalloca",
                                                   "preallocated", "allocalign", "allocptr"].map(kind))

    private static func kind(_ name: String) -> UInt32 { LLVMGetEnumAttributeKindForName(name, name.utf8.count) }
}

extension Statepoints {
    /// Carries every value (not a stack object) live across `calls`, the function's statepoint
    /// calls: a placeholder after each call it is live across stands for its version after the
    /// call, every use is rewritten to the version that reaches it (`SSARepair`), and each
    /// placeholder takes the version that reaches its call. `live`: the values live across each
    /// call, by call.
    static func carry(_ live: [UnsafeRawPointer: [LLVMValueRef]], across calls: [LLVMValueRef], in function: LLVMValueRef,
                      module: LLVMModuleRef, builder: borrowing IRBuilder) {
        var across: [UnsafeRawPointer: [LLVMValueRef]] = [:]
        var order: [LLVMValueRef] = []
        for call in calls {
            for value in live[UnsafeRawPointer(call)] ?? [] where LLVMIsAAllocaInst(value) == nil {
                if across[UnsafeRawPointer(value)] == nil { order.append(value) }
                across[UnsafeRawPointer(value), default: []].append(call)
            }
        }
        guard !order.isEmpty else { return }
        let predecessors = SSARepair.Predecessors(of: function)
        for value in order {
            let uses = IR.operandUses(of: value)
            let valueCalls = across[UnsafeRawPointer(value)]!
            let carries = valueCalls.map { insertCarry(of: value, after: $0, module: module, builder: builder) }
            var repair = SSARepair(value: value, definitions: carries, in: function, predecessors: predecessors, builder: builder)
            for (user, operand) in uses { repair.rewrite(user, operand: operand) }
            for (carry, call) in zip(carries, valueCalls) { LLVMSetOperand(carry, 0, repair.reachingDefinition(before: call)) }
        }
        for call in calls { mergeSameBits(after: call, builder: builder) }
    }

    /// Code generation relocates a value once however many carried values have its bits (an `i32`
    /// and its zero extension, a `double` and the integer of its bits), and then records it once:
    /// the carried values after `call` with the same bits as an earlier one become that one,
    /// converted, so that records and descriptions agree.
    static func mergeSameBits(after call: LLVMValueRef, builder: borrowing IRBuilder) {
        var first: [String: LLVMValueRef] = [:]
        for carry in carries(after: call) {
            let key = structuralKey(bitSource(LLVMGetOperand(carry, 0)!), depth: 8)
            guard let earlier = first[key] else { first[key] = carry; continue }
            builder.position(after: carries(after: call).last!)
            let context = LLVMGetTypeContext(LLVMTypeOf(carry))!
            let bits = StatepointLowering.toBits(earlier, i64: LLVMInt64TypeInContext(context), builder: builder)
            let same = StatepointLowering.fromBits(bits, to: LLVMTypeOf(carry), builder: builder)
            LLVMReplaceAllUsesWith(carry, same)
            LLVMInstructionEraseFromParent(carry)
        }
    }

    /// A name for what `value` computes: instructions without memory access or side effects that
    /// compute the same from the same (`trunc i64 %a` written twice) get the same name, as
    /// instruction selection makes them one node; anything else is named by its identity.
    static func structuralKey(_ value: LLVMValueRef, depth: Int) -> String {
        let identity = String(UInt(bitPattern: UnsafeRawPointer(value)), radix: 16)
        guard depth > 0, LLVMIsAInstruction(value) != nil, LLVMIsAPHINode(value) == nil, LLVMIsACallInst(value) == nil,
              LLVMIsALoadInst(value) == nil, LLVMIsAAllocaInst(value) == nil,
              LLVMIsABinaryOperator(value) != nil || LLVMIsACastInst(value) != nil || LLVMIsAICmpInst(value) != nil
                || LLVMIsAGetElementPtrInst(value) != nil || LLVMIsASelectInst(value) != nil else {
            if let constant = LLVMIsAConstantInt(value) {
                return "c\(LLVMConstIntGetZExtValue(constant)):" + String(UInt(bitPattern: UnsafeRawPointer(LLVMTypeOf(value)!)), radix: 16)
            }
            return identity
        }
        var key = "(\(LLVMGetInstructionOpcode(value).rawValue)"
        key += ":" + String(UInt(bitPattern: UnsafeRawPointer(LLVMTypeOf(value)!)), radix: 16)
        if LLVMIsAICmpInst(value) != nil { key += ":p\(LLVMGetICmpPredicate(value).rawValue)" }
        if LLVMIsAGetElementPtrInst(value) != nil {
            key += ":s" + String(UInt(bitPattern: UnsafeRawPointer(LLVMGetGEPSourceElementType(value)!)), radix: 16)
        }
        for index in 0..<LLVMGetNumOperands(value) {
            key += " " + structuralKey(LLVMGetOperand(value, UInt32(index))!, depth: depth - 1)
        }
        return key + ")"
    }

    /// The value whose 64 bits `value` carries: through zero extensions to 64 bits (and their
    /// truncation back), bit casts, address-space casts and integer-pointer conversions of the
    /// same width.
    static func bitSource(_ value: LLVMValueRef) -> LLVMValueRef {
        var current = value
        while LLVMIsAInstruction(current) != nil {
            let opcode = LLVMGetInstructionOpcode(current)
            let operand = LLVMGetOperand(current, 0)!
            let from = LLVMTypeOf(operand)!
            let widthOK = LLVMGetTypeKind(from) != LLVMIntegerTypeKind || [8, 16, 32, 64].contains(LLVMGetIntTypeWidth(from))
            switch opcode {
            case LLVMBitCast, LLVMAddrSpaceCast, LLVMIntToPtr, LLVMPtrToInt:
                guard widthOK, LLVMGetTypeKind(from) != LLVMIntegerTypeKind || LLVMGetIntTypeWidth(from) == 64
                        || opcode == LLVMBitCast else { return current }
                current = operand
            case LLVMZExt where widthOK && LLVMGetIntTypeWidth(LLVMTypeOf(current)) == 64:
                current = operand
            case LLVMTrunc where LLVMGetInstructionOpcode(operand) == LLVMZExt
                && LLVMTypeOf(LLVMGetOperand(operand, 0)) == LLVMTypeOf(current):
                // A merged value converted back (`mergeSameBits`).
                current = LLVMGetOperand(operand, 0)!
            default:
                return current
            }
        }
        return current
    }
}
