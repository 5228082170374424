import CLLVM

/// Portable pass: function attributes that keep code generation free of state the stack
/// transformation could not see (docs/HAZARDS.md, H3) and frames alike on every ISA (H2, H4), on
/// the functions that need them: those with stackmap records (`StackMaps.hasRecords`). A function
/// without records is never on the stack below a migration point (every call it makes goes to
/// code that reaches none; the runtime refuses at a frame it has no record for, finding it from the
/// described frame above), so it is compiled as plain code is.
///
/// On each function with records:
/// * `"frame-pointer"="all"`: the frames the runtime rebuilds have a frame pointer, so stackmap
///   locations relative to it mean the same on both ISAs. (LLVM 19 gives a function with a
///   stackmap a frame pointer on both ISAs whatever the attribute says — `hasFP` counts
///   stackmaps — so leaving it out of the barrier-free functions, tried to save their push, move
///   and pop, changed nothing.) Functions without records keep the frontend's choice — no frame
///   pointer in a leaf at -O2: a hash-chain walk called from an interpreter's every table access
///   saves its push, move and pop.
/// * `"disable-tail-calls"="true"`: a call lowered as a tail call on one ISA but not on the other
///   would give the two stacks different frames. Calls with a stackmap after them are never in
///   tail position anyway; this covers the function's other calls. A function without records
///   calls only code that reaches no point, so no migration happens while its callee runs, tail
///   call or not.
/// * `restrictedAttribute`: code generation skips `restrictedPasses` on the function
///   (`PassGate`). Each of them can keep a value with no IR counterpart in a callee-saved register
///   across an instrumented call, or put an instruction between a call and its stackmap.
struct CodeGenerationAttributes {
    static let attributes = [("frame-pointer", "all"), ("disable-tail-calls", "true"), (restrictedAttribute, "")]

    /// Marks the functions whose code generation skips `restrictedPasses`.
    static let restrictedAttribute = "popcorn-restricted-codegen"

    /// LLVM 19's names of the passes skipped on functions with records, and what each would do:
    /// * machine CSE shares one materialisation of an address between blocks (aarch64 `adrp x19`
    ///   of the migration flag, from the prologue, used at every later point);
    /// * machine LICM, before and after register allocation, hoists constants and addresses out
    ///   of loops with calls (`mov w19, #0xab`, `adr x20, table`);
    /// * constant hoisting moves constants that take several instructions into a common dominator
    ///   (aarch64 `mov x19, #1; movk x19, #0x40, lsl #48` in Lua's interpreter loop);
    /// * aarch64's CFG simplification after atomic expansion (its only "Simplify the CFG" in code
    ///   generation) merges the block `StackMaps` starts after each stackmap back into the one
    ///   before, so that a frame address is computed once for several calls (`add x19, sp, #96`);
    /// * x86_64's call-frame optimisation pushes stack arguments and pops them after the call
    ///   (`addq $0x20, %rsp`), an instruction between the call and its stackmap (H11).
    static let restrictedPasses = [
        "Machine Common Subexpression Elimination",
        "Early Machine Loop Invariant Code Motion",
        "Machine Loop Invariant Code Motion",
        "Constant Hoisting",
        "Simplify the CFG",
        "X86 Optimize Call Frame",
    ]

    /// The gate code generation runs under.
    static let gate = PassGate(attribute: restrictedAttribute, passes: restrictedPasses)

    /// Marks the functions that also skip `strictPasses`: those code generation found keeping a
    /// value in a spill slot across a stackmap's call (`Backend.run`).
    static let strictAttribute = "popcorn-strict-codegen"

    /// Passes that can leave a value with no IR counterpart live across a call, skipped only where
    /// that was seen (they are worth several percent of SQLite's instructions elsewhere):
    /// * loop strength reduction rewrites a loop's exit values in terms of its induction variables,
    ///   whose parts then stay live across the loop's calls (x86_64: a loop's last load and sum
    ///   kept in rbx and r12 to compute the value it returns);
    /// * CodeGenPrepare sinks address computations into the blocks that use them and duplicates
    ///   them there (aarch64 SQLite `balance`: with both, the whole barrier, it still kept a value in a
    ///   spill slot across a call).
    static let strictPasses = ["Loop Strength Reduction", "CodeGen Prepare"]

    /// The second gate, for the functions marked strict.
    static let strictGate = PassGate(attribute: strictAttribute, passes: strictPasses)

    /// Marks `functions` (by name) of `module` strict.
    static func markStrict(_ functions: Set<String>, in module: LLVMModuleRef) {
        let context = LLVMGetModuleContext(module)!
        for name in functions.sorted() {
            guard let function = LLVMGetNamedFunction(module, name) else { continue }
            LLVMAddAttributeAtIndex(function, LLVMAttributeIndex.max,
                                    LLVMCreateStringAttribute(context, strictAttribute, UInt32(strictAttribute.utf8.count), "", 0))
        }
    }

    /// Sets the attributes on every function definition with records; returns how many changed.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        var changed = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) && StackMaps.hasRecords(function) {
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
