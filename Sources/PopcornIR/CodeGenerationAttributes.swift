import CLLVM

/// Portable pass: function attributes that keep code generation free of state the stack
/// transformation could not see (docs/HAZARDS.md, H3) and frames alike on every ISA (H2, H4).
///
/// * `"frame-pointer"="all"` on every function with stackmap records (`StackMaps.hasRecords`): the
///   frames the runtime rebuilds have a frame pointer, so stackmap locations relative to it mean
///   the same on both ISAs. (LLVM 19 gives a function with a stackmap a frame pointer on both
///   ISAs whatever the attribute says — `hasFP` counts stackmaps — so leaving it out of the
///   barrier-free functions, tried to save their push, move and pop, changed nothing.) A
///   function without records is never on the stack below a migration point (the runtime
///   refuses at a frame it has no record for, finding it from the described frame above), so it
///   keeps the frontend's choice — no frame pointer in a leaf at -O2, as plain
///   code has: a hash-chain walk called from an interpreter's every table access saves its push,
///   move and pop.
/// * `"disable-tail-calls"="true"`: a call lowered as a tail call on one ISA but not on the
///   other would give the two stacks different frames; calls with a stackmap after them are
///   never in tail position anyway, this also covers the uninstrumented ones.
struct CodeGenerationAttributes {
    static let attributes = [("frame-pointer", "all"), ("disable-tail-calls", "true")]
    /// What functions without records get.
    static let unrecordedAttributes = [("disable-tail-calls", "true")]

    /// Sets the attributes on every function definition; returns how many functions changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        var changed = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for (key, value) in StackMaps.hasRecords(function) ? Self.attributes : Self.unrecordedAttributes {
                LLVMRemoveStringAttributeAtIndex(function, LLVMAttributeIndex.max, key, UInt32(key.utf8.count))
                LLVMAddAttributeAtIndex(function, LLVMAttributeIndex.max,
                                        LLVMCreateStringAttribute(context, key, UInt32(key.utf8.count),
                                                                  value, UInt32(value.utf8.count)))
            }
            changed += 1
        }
        return changed
    }
}
