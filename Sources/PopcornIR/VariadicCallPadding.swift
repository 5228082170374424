import CLLVM
import PopcornSupport

/// x86_64 pass 4: pads calls to the program's own variadic functions so that x86_64 puts each
/// variadic argument where the callee's (aarch64-style) `va_arg` code looks for it.
///
/// The x86_64 backend assigns IR arguments one piece at a time to 6 integer and 8 XMM
/// registers, so a `[2 x i64]` can start in `r9` and continue on the stack, and an argument
/// after one that went to the stack can still take a register. AAPCS, which the inline
/// `va_arg` code implements, never splits an argument between registers and stack, stops using
/// a register class once an argument of that class did not fit, and starts an `i128` in an
/// even register. Dummy `undef` arguments (i64 for integer registers, double for XMM registers)
/// recreate exactly that: the `va_arg` code skips the dummy slots like AAPCS padding.
///
/// With the native C library, libc's variadic functions read their arguments with x86_64's
/// native `va_arg` and are left alone; with the portable one they are the program's own IR.
struct VariadicCallPadding {
    /// Which C library the callees named like libc functions belong to.
    var libc: LibcModel = .native

    /// Register class of one argument piece on x86_64.
    enum RegisterClass { case integer, vector, memory }

    static let integerRegisters = 6
    static let vectorRegisters = 8

    /// Pads the module's calls; returns the number of calls changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        let byval = LLVMGetEnumAttributeKindForName("byval", 5)
        let inalloca = LLVMGetEnumAttributeKindForName("inalloca", 8)
        let preallocated = LLVMGetEnumAttributeKindForName("preallocated", 12)
        let undefI64 = LLVMGetUndef(LLVMInt64TypeInContext(context))!
        let undefDouble = LLVMGetUndef(LLVMDoubleTypeInContext(context))!
        var changed = 0

        for call in IR.calls(in: module) {
            let functionType = LLVMGetCalledFunctionType(call)!
            guard LLVMIsFunctionVarArg(functionType) != 0 else { continue }
            if let name = IR.calleeName(of: call),
               name.hasPrefix("llvm.") || (libc == .native && LibcVariadicFunctions.isLibcVariadic(name)) { continue }
            let fixed = Int(LLVMCountParamTypes(functionType))
            let arguments = IR.arguments(of: call)
            var newArguments: [LLVMValueRef] = []
            var map: [Int?] = []
            var gp = 0, xmm = 0
            var padded = false

            func pad(_ count: Int, _ cls: RegisterClass) {
                for _ in 0..<count {
                    newArguments.append(cls == .integer ? undefI64 : undefDouble)
                    map.append(nil)
                }
                if count > 0 { padded = true }
                if cls == .integer { gp += count } else { xmm += count }
            }

            for (index, argument) in arguments.enumerated() {
                let onStack = [byval, inalloca, preallocated].contains {
                    LLVMGetCallSiteEnumAttribute(call, LLVMAttributeIndex(index + 1), $0) != nil
                }
                let pieces = onStack ? [] : Self.pieces(of: LLVMTypeOf(argument))
                if index >= fixed, let unit = Self.unit(pieces) {
                    let (cls, count, evenStart) = unit
                    if cls == .integer, evenStart, gp % 2 == 1, gp < Self.integerRegisters { pad(1, .integer) }
                    let available = (cls == .integer ? Self.integerRegisters - gp : Self.vectorRegisters - xmm)
                    if count > 1 || evenStart, available < count, available > 0 { pad(available, cls) }
                }
                newArguments.append(argument)
                map.append(index)
                // Account for the argument the way the x86_64 backend assigns it.
                if pieces.count == 1, pieces[0].isI128 {
                    if gp + 2 <= Self.integerRegisters { gp += 2 }
                } else {
                    for piece in pieces {
                        switch piece.cls {
                        case .integer where gp < Self.integerRegisters: gp += 1
                        case .vector where xmm < Self.vectorRegisters: xmm += 1
                        default: break
                        }
                    }
                }
            }
            guard padded else { continue }
            let callee = LLVMGetCalledValue(call)!
            let replacement = IR.rebuildCall(call, functionType: functionType, callee: callee,
                                             arguments: newArguments, argumentMap: map, builder: builder)
            if LLVMGetTypeKind(LLVMTypeOf(call)) != LLVMVoidTypeKind {
                LLVMReplaceAllUsesWith(call, replacement)
            }
            LLVMInstructionEraseFromParent(call)
            changed += 1
        }
        return changed
    }

    /// One register-sized piece of an IR argument as the x86_64 backend sees it.
    struct Piece: Equatable {
        var cls: RegisterClass
        var isI128 = false
    }

    /// The pieces an argument of `type` is split into (arrays and structs are flattened).
    static func pieces(of type: LLVMTypeRef) -> [Piece] {
        switch LLVMGetTypeKind(type) {
        case LLVMIntegerTypeKind:
            let width = LLVMGetIntTypeWidth(type)
            if width <= 64 { return [Piece(cls: .integer)] }
            if width == 128 { return [Piece(cls: .integer, isI128: true)] }
            return Array(repeating: Piece(cls: .integer), count: Int((width + 63) / 64))
        case LLVMPointerTypeKind:
            return [Piece(cls: .integer)]
        case LLVMHalfTypeKind, LLVMBFloatTypeKind, LLVMFloatTypeKind, LLVMDoubleTypeKind, LLVMFP128TypeKind:
            return [Piece(cls: .vector)]
        case LLVMVectorTypeKind:
            return [Piece(cls: .vector)]
        case LLVMArrayTypeKind:
            let element = pieces(of: LLVMGetElementType(type))
            return Array((0..<Int(LLVMGetArrayLength2(type))).map { _ in element }.joined())
        case LLVMStructTypeKind:
            let count = Int(LLVMCountStructElementTypes(type))
            return (0..<count).flatMap { pieces(of: LLVMStructGetTypeAtIndex(type, UInt32($0))) }
        default:
            return [Piece(cls: .memory)]
        }
    }

    /// How the aarch64 `va_arg` code reads an argument made of `pieces`: as one unit of `count`
    /// registers of one class (and whether it starts at an even register), or nil when AAPCS
    /// and x86_64 agree anyway (single registers, memory-class values).
    static func unit(_ pieces: [Piece]) -> (RegisterClass, Int, Bool)? {
        guard let first = pieces.first, first.cls != .memory,
              pieces.allSatisfy({ $0.cls == first.cls }) else { return nil }
        if pieces.count == 1 && first.isI128 { return (.integer, 2, true) }
        if pieces.count == 1 { return nil }
        return (first.cls, pieces.count, false)
    }
}
