import CLLVM

/// Portable pass: function attributes that keep code generation free of state the stack
/// transformation could not see (docs/HAZARDS.md, H3) and frames alike on every ISA (H2, H4).
///
/// * `"frame-pointer"="all"`: every frame has a frame pointer, so frames can be walked and
///   stackmap locations relative to it stay meaningful, on both ISAs alike.
/// * `"disable-tail-calls"="true"`: a call lowered as a tail call on one ISA but not on the
///   other would give the two stacks different frames; calls with a stackmap after them are
///   never in tail position anyway, this also covers the uninstrumented ones.
struct CodeGenerationAttributes {
    static let attributes = [("frame-pointer", "all"), ("disable-tail-calls", "true")]

    /// Sets the attributes on every function definition; returns how many functions changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        var changed = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for (key, value) in Self.attributes {
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
