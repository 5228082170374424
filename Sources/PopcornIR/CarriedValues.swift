import CLLVM
import PopcornSupport

/// Part of `StackMaps` (portable) and `CalleeSavedBarrier` (per ISA): values kept in callee-saved
/// registers across the instrumented calls they are live across, instead of in stack slots.
///
/// A slot costs a store before the call and a load after it (or a load at every use, for a value
/// resident in its slot), where plain code keeps the value in a callee-saved register for free:
/// an interpreter's `base`, `pc` and constants table around its calls, a B-tree cursor around
/// its comparator. Such a value is now
///
/// * an operand of the call's stackmap itself, right after the call: the record reports the
///   register (or the spill slot, under register pressure) holding it at the return address;
/// * passed, right after the stackmap, through a *carry* statement: in the portable IR a call of
///   `__popcorn.carry(i32 color, T value, …)` returning the values; per ISA an empty inline-asm
///   statement that takes and returns each value in the callee-saved register of its color
///   (`"={rbx},0"`) and clobbers every other callee-saved register. Every use after the call takes
///   the statement's result (`SSARepair`), so the code after the call reads the value from where
///   the record says it is, and no copy made before the call (a spill slot the value was also
///   stored to) is read after it. The clobbers do what `CalleeSavedBarrier` does for the other
///   calls: nothing undescribed is carried across the call in a callee-saved register.
///
/// The stackmap sits at the return address only if nothing is scheduled between the call and it;
/// popcorn-ld checks every record (a site with code in between is left out with a warning, so there
/// is no migration at that call). Integers and pointers only: x86_64 has no callee-saved vector
/// registers, so a floating-point value would be reloaded between the call and the stackmap.
///
/// Colors are chosen once, in the portable IR, so every ISA describes the same operands: values
/// live across one call need different colors, and a value keeps its color at every call
/// (greedy, the values live across the most calls first). `colorCount` registers exist on every
/// ISA; a value left without a color is kept in a slot as before.
enum CarriedValues {
    /// The placeholder function of the portable IR.
    static let placeholder = "__popcorn.carry"

    /// Colors: x86_64 has five callee-saved general registers besides the frame pointer.
    static let colorCount = 5

    /// The register of each color, per ISA, and the callee-saved registers a carry statement
    /// clobbers when it does not bind them (not the frame pointer and link register, which frames
    /// describe themselves).
    static func registers(_ isa: ISA) -> (colors: [String], calleeSaved: [String]) {
        switch isa {
        case .x86_64:
            let general = ["rbx", "r12", "r13", "r14", "r15"]
            return (general, general)
        case .aarch64:
            let general = (19...28).map { "x\($0)" }
            return (Array(general.prefix(colorCount)), general + (8...15).map { "d\($0)" })
        }
    }

    /// Integers of 8 to 64 bits and pointers: they fit one general register on every ISA.
    static func isCarriable(_ value: LLVMValueRef) -> Bool {
        let type = LLVMTypeOf(value)!
        switch LLVMGetTypeKind(type) {
        case LLVMPointerTypeKind: return LLVMGetPointerAddressSpace(type) == 0
        case LLVMIntegerTypeKind: return [8, 16, 32, 64].contains(LLVMGetIntTypeWidth(type))
        default: return false
        }
    }

    /// Chooses colors for `candidates` (carriable values in definition order), given the
    /// instrumented calls each is live across. A value live only across migration points'
    /// slow-path calls stays in its slot: it is stored there on the cold path only.
    static func colors(of candidates: [LLVMValueRef], across: [UnsafeRawPointer: [LLVMValueRef]])
        -> [UnsafeRawPointer: Int] {
        let weighted = candidates.compactMap { value -> (value: LLVMValueRef, calls: Int)? in
            let calls = (across[UnsafeRawPointer(value)] ?? []).filter { !StackSlotDemotion.isSlowPath($0) }.count
            return calls > 0 ? (value, calls) : nil
        }
        // Stable: ties keep definition order.
        let order = weighted.enumerated().sorted { ($0.element.calls, -$0.offset) > ($1.element.calls, -$1.offset) }
        var colors: [UnsafeRawPointer: Int] = [:]
        var taken: [UnsafeRawPointer: Set<Int>] = [:]   // call -> colors of the values carried across it
        for (_, entry) in order {
            let calls = (across[UnsafeRawPointer(entry.value)] ?? []).map { UnsafeRawPointer($0) }
            let used = calls.reduce(into: Set<Int>()) { $0.formUnion(taken[$1] ?? []) }
            guard let color = (0..<colorCount).first(where: { !used.contains($0) }) else { continue }
            colors[UnsafeRawPointer(entry.value)] = color
            for call in calls { taken[call, default: []].insert(color) }
        }
        return colors
    }

    /// Inserts the carry statement for `values` (with their colors) right after `stackmap`;
    /// returns the new definitions, one per value in order, and the last instruction added.
    static func insert(after stackmap: LLVMValueRef, values: [(value: LLVMValueRef, color: Int)],
                       module: LLVMModuleRef, builder: borrowing IRBuilder) -> (definitions: [LLVMValueRef], last: LLVMValueRef) {
        let context = LLVMGetModuleContext(module)!
        let i32 = LLVMInt32TypeInContext(context)!
        var types: [LLVMTypeRef?] = values.map { LLVMTypeOf($0.value) }
        let result: LLVMTypeRef = values.count == 1
            ? types[0]!
            : types.withUnsafeMutableBufferPointer { LLVMStructTypeInContext(context, $0.baseAddress, UInt32($0.count), 0)! }
        var parameters: [LLVMTypeRef?] = values.flatMap { [i32, LLVMTypeOf($0.value)] }
        let type = parameters.withUnsafeMutableBufferPointer {
            LLVMFunctionType(result, $0.baseAddress, UInt32($0.count), 0)!
        }
        let callee = LLVMGetNamedFunction(module, placeholder)
            ?? LLVMAddFunction(module, placeholder, LLVMFunctionType(LLVMVoidTypeInContext(context), nil, 0, 1))!
        builder.position(after: stackmap)
        var arguments: [LLVMValueRef?] = values.flatMap { [LLVMConstInt(i32, UInt64($0.color), 0), $0.value] }
        let carry = arguments.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, type, callee, $0.baseAddress, UInt32($0.count), "popcorn.carried")!
        }
        guard values.count > 1 else { return ([carry], carry) }
        let definitions = values.indices.map { LLVMBuildExtractValue(builder.ref, carry, UInt32($0), "popcorn.carried")! }
        return (definitions, definitions.last!)
    }

    /// Whether `instruction` calls the placeholder.
    static func isPlaceholder(_ instruction: LLVMValueRef) -> Bool {
        LLVMIsACallInst(instruction) != nil && IR.calleeName(of: instruction) == placeholder
    }

    /// Per ISA: replaces the placeholder call `carry` by the carry statement (see the type's
    /// comment); the statement is `convergent`, as `CalleeSavedBarrier`'s, so the block holding the
    /// call, its stackmap and the statement is never duplicated.
    static func lower(_ carry: LLVMValueRef, isa: ISA, builder: borrowing IRBuilder) {
        let (colors, calleeSaved) = registers(isa)
        let arguments = IR.arguments(of: carry)
        var bound: [String] = []
        var values: [LLVMValueRef?] = []
        for pair in stride(from: 0, to: arguments.count, by: 2) {
            bound.append(colors[Int(LLVMConstIntGetZExtValue(arguments[pair]))])
            values.append(arguments[pair + 1])
        }
        let outputs = bound.map { "={\($0)}" }
        let inputs = bound.indices.map { String($0) }
        let clobbers = calleeSaved.filter { !bound.contains($0) }.map { "~{\($0)}" }
        let constraints = (outputs + inputs + clobbers).joined(separator: ",")
        let context = LLVMGetTypeContext(LLVMTypeOf(carry))!
        var types: [LLVMTypeRef?] = values.map { LLVMTypeOf($0) }
        let type = types.withUnsafeMutableBufferPointer {
            LLVMFunctionType(LLVMTypeOf(carry), $0.baseAddress, UInt32($0.count), 0)!
        }
        let asm = LLVMGetInlineAsm(type, "", 0, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        builder.position(before: carry)
        let statement = values.withUnsafeMutableBufferPointer {
            LLVMBuildCall2(builder.ref, type, asm, $0.baseAddress, UInt32($0.count), "")!
        }
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        LLVMAddCallSiteAttribute(statement, LLVMAttributeIndex(bitPattern: -1), convergent)
        LLVMReplaceAllUsesWith(carry, statement)
        LLVMInstructionEraseFromParent(carry)
    }
}
