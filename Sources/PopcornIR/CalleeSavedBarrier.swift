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
struct CalleeSavedBarrier {
    let isa: ISA

    /// The LLVM inline-asm clobber list for the ISA's callee-saved registers (not the frame
    /// pointer and link register, which frames describe themselves).
    var clobbers: String {
        switch isa {
        case .x86_64:
            return ["rbx", "r12", "r13", "r14", "r15"].map { "~{\($0)}" }.joined(separator: ",")
        case .aarch64:
            let general = (19...28).map { "~{x\($0)}" }
            let vector = (8...15).map { "~{d\($0)}" }
            return (general + vector).joined(separator: ",")
        }
    }

    /// Inserts the barrier after every stackmap of `module`; returns how many.
    @discardableResult
    func run(on module: LLVMModuleRef) -> Int {
        let context = LLVMGetModuleContext(module)!
        let builder = IRBuilder(context: context)
        var noParameters: [LLVMTypeRef?] = []
        let type = LLVMFunctionType(LLVMVoidTypeInContext(context), &noParameters, 0, 0)!
        let constraints = clobbers
        let asm = LLVMGetInlineAsm(type, "", 0, constraints, constraints.utf8.count, 1, 0, LLVMInlineAsmDialectATT, 0)!
        let convergent = LLVMCreateEnumAttribute(context, LLVMGetEnumAttributeKindForName("convergent", 10), 0)!
        var inserted = 0
        for function in IR.functions(of: module) where IR.isDefinition(function) {
            for call in IR.instructions(of: function)
            where LLVMIsACallInst(call) != nil && IR.calleeName(of: call) == StackMaps.intrinsic {
                builder.position(after: call)
                var arguments: [LLVMValueRef?] = []
                let barrier = LLVMBuildCall2(builder.ref, type, asm, &arguments, 0, "")!
                LLVMAddCallSiteAttribute(barrier, LLVMAttributeIndex(bitPattern: -1), convergent)
                inserted += 1
            }
        }
        return inserted
    }
}
