import CLLVM

/// Portable pass: `llvm.global_ctors`/`llvm.global_dtors` become pointer arrays in
/// `.init_array[.<priority>]`/`.fini_array[.<priority>]`.
///
/// The target machines come from the LLVM C API, which cannot ask for init arrays, so LLVM
/// would put `__attribute__((constructor))`/`((destructor))` functions into `.ctors`/`.dtors`
/// — sections musl's start-up never runs. This pass emits what clang's ELF back end emits with
/// init arrays: one array per priority, named `.init_array.<priority>` (`.init_array` for the
/// default priority 65535), which ld.lld sorts by the number, before the unnumbered ones. musl
/// runs `.init_array` front to back and `.fini_array` back to front, so constructors run in
/// ascending priority and destructors in descending priority, entries of one priority in
/// source order — as with clang. Being part of the portable module, the arrays (and their
/// section names, which popcorn-ld aligns by) are the same on every ISA.
///
/// The third field of an entry (a global whose discarding would drop the entry) only matters
/// with COMDAT groups, which C code does not have; the entry is kept unconditionally.
struct StaticConstructorLowering {
    /// LLVM's default priority, for which the section name has no number.
    static let defaultPriority: UInt64 = 65535

    /// Rewrites both lists in `module`; returns how many functions were placed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        lower("llvm.global_ctors", section: ".init_array", in: module)
            + lower("llvm.global_dtors", section: ".fini_array", in: module)
    }

    private func lower(_ listName: String, section: String, in module: LLVMModuleRef) -> Int {
        guard let list = LLVMGetNamedGlobal(module, listName), let initializer = LLVMGetInitializer(list) else { return 0 }
        // Entries `{ i32 priority, ptr function, ptr data }`; a null function ends the list.
        var byPriority: [UInt64: [LLVMValueRef]] = [:]
        var count = 0
        for index in 0..<LLVMGetNumOperands(initializer) {
            guard let entry = LLVMGetOperand(initializer, UInt32(index)), LLVMGetNumOperands(entry) >= 2,
                  let priorityValue = LLVMGetOperand(entry, 0), let function = LLVMGetOperand(entry, 1) else { continue }
            if LLVMIsNull(function) != 0 { break }
            byPriority[LLVMConstIntGetZExtValue(priorityValue), default: []].append(function)
            count += 1
        }
        let context = LLVMGetModuleContext(module)!
        let pointer = LLVMPointerTypeInContext(context, 0)!
        for (priority, functions) in byPriority.sorted(by: { $0.key < $1.key }) {
            let name = priority == Self.defaultPriority ? section : "\(section).\(priority)"
            var elements: [LLVMValueRef?] = functions
            let type = LLVMArrayType2(pointer, UInt64(functions.count))!
            let array = LLVMAddGlobal(module, type, "__popcorn\(name)")!
            LLVMSetInitializer(array, LLVMConstArray2(pointer, &elements, UInt64(functions.count)))
            LLVMSetLinkage(array, LLVMInternalLinkage)
            LLVMSetSection(array, name)
            LLVMSetAlignment(array, 8)
            // Nothing references the array; the linker finds it by its section. Keep it alive
            // through any later optimisation, as `llvm.global_ctors` itself was.
            appendToCompilerUsed(array, in: module)
        }
        LLVMDeleteGlobal(list)
        return count
    }

    /// Adds `value` to `llvm.compiler.used`, creating or extending the list.
    private func appendToCompilerUsed(_ value: LLVMValueRef, in module: LLVMModuleRef) {
        let context = LLVMGetModuleContext(module)!
        let pointer = LLVMPointerTypeInContext(context, 0)!
        var elements: [LLVMValueRef?] = []
        if let existing = LLVMGetNamedGlobal(module, "llvm.compiler.used") {
            if let initializer = LLVMGetInitializer(existing) {
                for index in 0..<LLVMGetNumOperands(initializer) { elements.append(LLVMGetOperand(initializer, UInt32(index))) }
            }
            LLVMDeleteGlobal(existing)
        }
        elements.append(value)
        let type = LLVMArrayType2(pointer, UInt64(elements.count))!
        let used = LLVMAddGlobal(module, type, "llvm.compiler.used")!
        LLVMSetInitializer(used, LLVMConstArray2(pointer, &elements, UInt64(elements.count)))
        LLVMSetLinkage(used, LLVMAppendingLinkage)
        LLVMSetSection(used, "llvm.metadata")
    }
}
