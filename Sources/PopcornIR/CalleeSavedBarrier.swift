import CLLVM
import PopcornSupport

/// Per-ISA lowering: right after every stackmap, an empty inline-asm statement that clobbers every
/// callee-saved register the metadata would otherwise have to describe.
///
/// Why: LLVM 19's *Machine Late Instructions Cleanup* runs unconditionally and deletes a
/// rematerialisable definition (a frame address `lea -0x20(%rbp), %rbx`, a constant, a global's
/// address) when an identical definition in a dominating block left the same register holding
/// that value and nothing clobbered it in between. A call preserves callee-saved registers, so
/// the deletion may span an instrumented call: the register is then relied on across the call,
/// where no stackmap describes it (hidden state; seen on x86_64 with a signal set's address kept
/// in rbx across C library calls — which have no stackmaps — and reused after a program call).
/// The clobber makes every callee-saved register dead at the stackmap, so nothing can be carried
/// across the call in one: the register allocator must rematerialise after it. Values that are
/// really live across the call are in frame slots already (`StackSlotDemotion`), so the clobber
/// costs only the prologue saving those registers.
///
/// The barrier is also `convergent`, which keeps the block of a call and its stackmap from being
/// copied: at -O3 the machine tail duplicator copied such a block into each predecessor, giving
/// two stackmap records with one call-site ID, and popcorn-ld refused the link ("id is not
/// unique"; torture pr61673, 980605-1). Convergent instructions are never tail-duplicated.
///
/// Functions in `narrowed` get a barrier that clobbers only the registers listed for them (none:
/// the convergent statement alone). Saving every callee-saved register on each call doubled the
/// cost of an interpreter's table lookup, and is most of a small function's; what soundness needs
/// is only that no callee-saved register is live across an instrumented call (whatever the
/// function keeps in one is then set again after the call, and the callers' values are the
/// transformation's to carry). `Backend` compiles every function with stackmaps without clobbers
/// first, and code generation reports each callee-saved register live right after a stackmap
/// (`TargetMachine.emit`, with the back end's own liveness); only a function with one is
/// compiled again with the whole barrier.
struct CalleeSavedBarrier {
    let isa: ISA
    /// Functions (by name) whose barrier clobbers only these callee-saved registers (DWARF numbers).
    var narrowed: [String: Set<UInt16>] = [:]

    /// The barriers of the first emission: none (the convergent statement alone) in every function
    /// with stackmaps of at most `wholeBarrierSize` IR instructions; the larger ones keep the whole
    /// barrier, which costs them one save and restore of each callee-saved register per call of the
    /// function, little beside their size.
    ///
    /// Why not none everywhere: a function that keeps a register live across a stackmap is compiled
    /// again, and so is the rest of its module. Large functions are where the back end's own
    /// values end up there (SQLite's `balance` on aarch64, the only one in the amalgamation); it
    /// cost the amalgamation a second aarch64 emission, a third of its compile time.
    static func initialBarriers(in module: LLVMModuleRef) -> [String: Set<UInt16>] {
        var barriers: [String: Set<UInt16>] = [:]
        for function in IR.functions(of: module) where IR.isDefinition(function) && StackMaps.hasRecords(function)
            && IR.instructions(of: function).count <= wholeBarrierSize {
            barriers[IR.name(of: function)] = []
        }
        return barriers
    }

    /// IR instructions (points included) beyond which a function starts with the whole barrier.
    static let wholeBarrierSize = 400

    /// The ISA's callee-saved registers, DWARF number and LLVM name (not the frame pointer and
    /// link register, which frames describe themselves).
    static func registers(_ isa: ISA) -> [(dwarf: UInt16, name: String)] {
        switch isa {
        case .x86_64:
            return [(3, "rbx"), (12, "r12"), (13, "r13"), (14, "r14"), (15, "r15")]
        case .aarch64:
            // d8–d15 are the low halves of v8–v15 (DWARF 72–79).
            return (19...28).map { (UInt16($0), "x\($0)") } + (8...15).map { (UInt16(64 + $0), "d\($0)") }
        }
    }

    /// The LLVM inline-asm clobber list for `registers` (DWARF numbers; all of them when nil).
    func clobbers(_ registers: Set<UInt16>? = nil) -> String {
        Self.registers(isa).filter { registers?.contains($0.dwarf) ?? true }.map { "~{\($0.name)}" }.joined(separator: ",")
    }

    /// Inserts the barrier after every stackmap of `module`; returns how many.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var noParameters: [LLVMTypeRef?] = []
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), &noParameters, 0, 0)!
        func statement(_ constraints: String) -> LLVMValueRef {
            LLVMGetInlineAsm(type, "", 0, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        }
        let whole = statement(clobbers())
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        var inserted = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            let statement = narrowed[IR.name(of: function)].map { statement(clobbers($0)) } ?? whole
            for call in IR.instructions(of: function)
            where LLVMIsACallInst(call) != nil && IR.calleeName(of: call) == StackMaps.intrinsic {
                builder.position(after: call)
                var arguments: [LLVMValueRef?] = []
                let barrier = LLVMBuildCall2(builder.ref, type, statement, &arguments, 0, "")!
                LLVMAddCallSiteAttribute(barrier, LLVMAttributeIndex(bitPattern: -1), convergent)
                inserted += 1
            }
        }
        return inserted
    }
}
